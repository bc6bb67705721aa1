import { useState, type FormEvent } from 'react';
import { api, ApiError } from '../../services/api';
import { PROSPECT_STATUSES, type Prospect } from '../../types';
import { EDIT_FIELDS, formFieldOf, formOf, patchOf, type EditField, type ProspectForm } from '../../utils/prospectForm';
import Dialog from '../UI/Dialog';
import ErrorMessage from '../UI/ErrorMessage';
import Spinner from '../UI/Spinner';

const LABELS: Record<EditField, string> = {
  name: 'Name',
  company: 'Company',
  status: 'Status',
  industry: 'Industry',
  lastContactDate: 'Last contact date',
  email: 'E-mail',
  title: 'Title',
  website: 'Website',
};

const INPUT_TYPE: Partial<Record<EditField, string>> = { lastContactDate: 'date', email: 'email', website: 'url' };
const REQUIRED: ReadonlySet<EditField> = new Set(['name', 'company']);

/** Edits a prospect in a side panel: PATCH with the changed fields; field errors under fields. */
export default function ProspectEditor({
  prospect,
  onClose,
  onSaved,
}: {
  prospect: Prospect;
  onClose: () => void;
  onSaved: (p: Prospect) => void;
}) {
  const [form, setForm] = useState<ProspectForm>(() => formOf(prospect));
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [fieldErrors, setFieldErrors] = useState<Partial<Record<EditField, string>>>({});

  const set = (f: EditField, v: string) => {
    setForm((x) => ({ ...x, [f]: v }));
    setFieldErrors((e) => ({ ...e, [f]: undefined }));
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const patch = patchOf(prospect, form);
    if (Object.keys(patch).length === 0) {
      onClose();
      return;
    }
    setSaving(true);
    setError(null);
    setFieldErrors({});
    try {
      const saved = await api.patchProspect(prospect.id, patch);
      onSaved(saved);
    } catch (err) {
      if (err instanceof ApiError && err.errors.length) {
        const fe: Partial<Record<EditField, string>> = {};
        let unplaced = false;
        for (const x of err.errors) {
          const f = formFieldOf(x.field);
          if (f) fe[f] = x.detail || err.detail;
          else unplaced = true;
        }
        setFieldErrors(fe);
        if (unplaced || Object.keys(fe).length === 0) setError(err);
      } else setError(err);
    } finally {
      setSaving(false);
    }
  };

  return (
    <Dialog open title={`Edit ${prospect.name}`} onClose={onClose} testId="prospect-edit-dialog">
      <form onSubmit={submit} noValidate className="flex flex-1 flex-col gap-3">
        <p className="font-mono text-xs text-slate-500">{prospect.id}</p>
        <ErrorMessage error={error} testId="prospect-edit-error" />
        {EDIT_FIELDS.map((f) => {
          const id = `prospect-edit-${f}`;
          const err = fieldErrors[f];
          return (
            <div key={f}>
              <label htmlFor={id} className="label">
                {LABELS[f]}
                {REQUIRED.has(f) && <span aria-hidden="true"> *</span>}
              </label>
              {f === 'status' ? (
                <select id={id} data-testid={id} className="input" value={form.status} onChange={(e) => set(f, e.target.value)}>
                  {PROSPECT_STATUSES.map((s) => (
                    <option key={s} value={s}>
                      {s}
                    </option>
                  ))}
                </select>
              ) : (
                <input
                  id={id}
                  data-testid={id}
                  type={INPUT_TYPE[f] ?? 'text'}
                  className={err ? 'input border-rose-500 focus:border-rose-500 focus:ring-rose-500' : 'input'}
                  value={form[f]}
                  required={REQUIRED.has(f)}
                  aria-invalid={err ? true : undefined}
                  aria-describedby={err ? `${id}-error` : undefined}
                  onChange={(e) => set(f, e.target.value)}
                />
              )}
              {err && (
                <p id={`${id}-error`} data-testid={`prospect-edit-error-${f}`} className="mt-1 text-xs text-rose-600 dark:text-rose-400">
                  {err}
                </p>
              )}
            </div>
          );
        })}
        <div className="mt-auto flex justify-end gap-2 pt-4">
          <button type="button" className="btn-secondary" onClick={onClose} data-testid="prospect-edit-cancel">
            Cancel
          </button>
          <button type="submit" className="btn-primary" disabled={saving} data-testid="prospect-edit-save">
            {saving && <Spinner />} Save
          </button>
        </div>
      </form>
    </Dialog>
  );
}
