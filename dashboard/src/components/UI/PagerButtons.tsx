/** Previous / Next over a stack of cursors (the API's `next_cursor` / `Link rel=next`): Previous
 * pops the stack, Next pushes the page's next cursor. The caller lays them out. */
export function PagerButtons({
  depth,
  next,
  onPrev,
  onNext,
  testIdPrefix,
}: {
  /** how many cursors the stack holds (1: the first page) */
  depth: number;
  /** the cursor of the page after this one, when there is one */
  next: string | null | undefined;
  onPrev: () => void;
  onNext: (cursor: string) => void;
  testIdPrefix?: string;
}) {
  return (
    <>
      <button
        type="button"
        className="btn-secondary"
        data-testid={testIdPrefix ? `${testIdPrefix}-prev` : undefined}
        disabled={depth <= 1}
        onClick={onPrev}
      >
        Previous
      </button>
      <button
        type="button"
        className="btn-secondary"
        data-testid={testIdPrefix ? `${testIdPrefix}-next` : undefined}
        disabled={!next}
        onClick={() => next && onNext(next)}
      >
        Next
      </button>
    </>
  );
}
