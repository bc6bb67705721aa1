import PageHeader from '../UI/PageHeader';
import { CompanyLookup, McpServers } from './McpPanel';
import SuppressionsPanel from './SuppressionsPanel';

export default function EnrichmentPage() {
  return (
    <section>
      <PageHeader title="Enrichment & opt-outs" />
      <div className="mb-4 grid gap-4 xl:grid-cols-2">
        <McpServers />
        <CompanyLookup />
      </div>
      <SuppressionsPanel />
    </section>
  );
}
