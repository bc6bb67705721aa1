import { useState } from 'react';
import { useProspectList } from '../../hooks/useProspectList';
import { isBannerError } from '../../services/api';
import type { Prospect } from '../../types';
import ErrorMessage from '../UI/ErrorMessage';
import PageHeader from '../UI/PageHeader';
import ImportPanel from './ImportPanel';
import { ProspectFilters, ProspectPager } from './ProspectControls';
import ProspectEditor from './ProspectEditor';
import ProspectsTable from './ProspectsTable';

export default function ProspectsPage() {
  const list = useProspectList();
  const [showImport, setShowImport] = useState(false);
  const [editing, setEditing] = useState<Prospect | null>(null);

  return (
    <section>
      <PageHeader title="Prospects">
        <button
          type="button"
          className="btn-secondary"
          data-testid="import-open"
          aria-expanded={showImport}
          onClick={() => setShowImport((s) => !s)}
        >
          {showImport ? 'Hide import' : 'Import…'}
        </button>
      </PageHeader>
      {showImport && (
        <div className="mb-4">
          <ImportPanel onImported={list.reload} />
        </div>
      )}
      <div className="mb-3">
        <ProspectFilters list={list} />
      </div>
      {!list.sortSupported && (
        <p className="mb-2 text-xs text-amber-700 dark:text-amber-300">
          This gateway does not sort prospects yet: they are listed by id.
        </p>
      )}
      {/* 401 and "unreachable" are the banner's; other problems are shown here. */}
      {list.error != null && !isBannerError(list.error) && (
        <ErrorMessage error={list.error} onRetry={list.reload} className="mb-3" />
      )}
      <ProspectsTable
        rows={list.rows}
        sort={list.sortSupported ? list.sort : null}
        onSort={list.sortSupported ? list.setSort : undefined}
        onEdit={setEditing}
        loading={list.loading}
        emptyText={list.error != null ? 'No prospects to show.' : undefined}
      />
      <ProspectPager list={list} />
      {editing && (
        <ProspectEditor
          prospect={editing}
          onClose={() => setEditing(null)}
          onSaved={(p) => {
            list.replaceRow(p);
            setEditing(null);
          }}
        />
      )}
    </section>
  );
}
