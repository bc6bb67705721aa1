import PageHeader from '../UI/PageHeader';

export default function RunPage() {
  return (
    <section>
      <PageHeader title="Run" />
      <p className="text-sm text-slate-500">This page is being built.</p>
    </section>
  );
}
