import PageHeader from '../UI/PageHeader';

export default function ProspectsPage() {
  return (
    <section>
      <PageHeader title="Prospects" />
      <p className="text-sm text-slate-500">This page is being built.</p>
    </section>
  );
}
