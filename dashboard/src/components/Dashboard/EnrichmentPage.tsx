import PageHeader from '../UI/PageHeader';

// Placeholder: the i13-dash2 branch fills this page in.
export default function EnrichmentPage() {
  return (
    <section>
      <PageHeader title="Enrichment & opt-outs" />
      <p className="text-sm text-slate-500">This page is being built.</p>
    </section>
  );
}
