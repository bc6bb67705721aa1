import PageHeader from '../UI/PageHeader';

export default function CampaignsPage() {
  return (
    <section>
      <PageHeader title="Campaigns" />
      <p className="text-sm text-slate-500">This page is being built.</p>
    </section>
  );
}
