/*
 * Copying text with one click: the asynchronous Clipboard API where the page may use it (a
 * secure context: https or localhost), else the old way, a hidden <textarea> selected and
 * document.execCommand('copy') (a dashboard served over plain http on a LAN name has no
 * navigator.clipboard).
 */

export interface ClipboardEnv {
  clipboard?: { writeText(text: string): Promise<void> } | null;
  document?: Document | null;
}

function defaultEnv(): ClipboardEnv {
  const nav = typeof navigator !== 'undefined' ? navigator : undefined;
  const secure = typeof window === 'undefined' || window.isSecureContext !== false;
  return {
    clipboard: secure && nav && nav.clipboard ? nav.clipboard : null,
    document: typeof document !== 'undefined' ? document : null,
  };
}

/** The fallback: selects the text in an off-screen textarea and asks the browser to copy it. */
export function copyWithExecCommand(text: string, doc: Document): boolean {
  const ta = doc.createElement('textarea');
  ta.value = text;
  ta.setAttribute('readonly', '');
  ta.setAttribute('aria-hidden', 'true');
  ta.style.position = 'fixed';
  ta.style.top = '0';
  ta.style.left = '-9999px';
  ta.style.opacity = '0';
  const active = doc.activeElement as HTMLElement | null;
  doc.body.appendChild(ta);
  try {
    ta.select();
    ta.setSelectionRange(0, text.length);
    return typeof doc.execCommand === 'function' ? doc.execCommand('copy') : false;
  } catch {
    return false;
  } finally {
    doc.body.removeChild(ta);
    if (active && typeof active.focus === 'function') active.focus();
  }
}

/** Copies text; true when it was copied. Never throws. */
export async function copyText(text: string, env: ClipboardEnv = defaultEnv()): Promise<boolean> {
  if (env.clipboard) {
    try {
      await env.clipboard.writeText(text);
      return true;
    } catch {
      /* refused (no permission, document not focused): try the fallback */
    }
  }
  if (env.document) return copyWithExecCommand(text, env.document);
  return false;
}
