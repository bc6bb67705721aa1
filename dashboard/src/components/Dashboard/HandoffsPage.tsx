import PageHeader from '../UI/PageHeader';

// Placeholder: the i13-dash2 branch fills this page in.
export default function HandoffsPage() {
  return (
    <section>
      <PageHeader title="Hand-offs" />
      <p className="text-sm text-slate-500">This page is being built.</p>
    </section>
  );
}
