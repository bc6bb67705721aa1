import PageHeader from '../UI/PageHeader';

// Placeholder: the i13-dash2 branch fills this page in.
export default function JobsPage() {
  return (
    <section>
      <PageHeader title="Jobs" />
      <p className="text-sm text-slate-500">This page is being built.</p>
    </section>
  );
}
