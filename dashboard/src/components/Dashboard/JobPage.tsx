import PageHeader from '../UI/PageHeader';

// Placeholder: the i13-dash2 branch fills this page in (live progress over SSE: services/sse.ts).
export default function JobPage({ id }: { id: string }) {
  return (
    <section>
      <PageHeader title={`Job ${id}`} />
      <p className="text-sm text-slate-500">This page is being built.</p>
    </section>
  );
}
