import { useState, type FormEvent } from 'react';
import { getApiKey, setApiKey } from '../../services/api';

/** The API key, typed by the operator and kept in localStorage "pa.apiKey". */
export default function ApiKeyField() {
  const [value, setValue] = useState(getApiKey);
  const [saved, setSaved] = useState(false);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setApiKey(value);
    setSaved(true);
    setTimeout(() => setSaved(false), 1500);
  };
  return (
    <form onSubmit={submit} className="flex items-center gap-2">
      <label htmlFor="api-key" className="sr-only">
        API key
      </label>
      <input
        id="api-key"
        data-testid="api-key-input"
        type="password"
        autoComplete="off"
        spellCheck={false}
        placeholder="API key"
        value={value}
        onChange={(e) => setValue(e.target.value)}
        className="input w-44 py-1"
      />
      <button type="submit" data-testid="api-key-save" className="btn-secondary py-1">
        {saved ? 'Saved' : 'Save'}
      </button>
    </form>
  );
}
