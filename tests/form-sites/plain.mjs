// A small hand-written site (the kind a PHP script or a static host serves): a home page, a
// contact page with one form made from a list of fields, and an answer (a redirect to a thank-you
// page, or the thank-you text in place of the form). Most sites of the corpus are made with it.
import { esc, page } from './lib.mjs';

const ERR = {
  en: 'Please correct the errors below.', de: 'Bitte korrigieren Sie die markierten Felder.',
  fr: 'Veuillez corriger les erreurs ci-dessous.', es: 'Por favor, corrija los errores.',
  it: 'Correggi gli errori qui sotto.', nl: 'Controleer de gemarkeerde velden.', ja: '入力内容に誤りがあります。',
};

// A field: [kind, name, label, opts]; kind: text email tel url textarea select checkbox hidden
// file submit raw. opts: {required, value, options: [[value, text]...], attrs, id, placeholder}.
export function renderFields(list, errors) {
  const bad = (n) => errors && errors.find((e) => e.startsWith(n + ':'));
  const tip = (n) => (bad(n) ? `<span class="error" role="alert">${esc(bad(n).slice(n.length + 1).trim())}</span>` : '');
  return list.map(([kind, name, label, o = {}]) => {
    const id = o.id || 'f-' + String(name).replace(/[^A-Za-z0-9_-]/g, '-');
    const req = o.required ? ' required' : '';
    const attrs = o.attrs ? ' ' + o.attrs : '';
    const ph = o.placeholder ? ` placeholder="${esc(o.placeholder)}"` : '';
    const lab = label ? `<label for="${id}">${label}${o.required ? ' <span class="req">*</span>' : ''}</label>` : '';
    switch (kind) {
      case 'raw': return name;
      case 'hidden': return `<input type="hidden" name="${esc(name)}" value="${esc(o.value ?? '')}">`;
      case 'submit': return o.button
        ? `<p class="actions"><button type="submit"${name ? ` name="${esc(name)}" value="${esc(o.value)}"` : ''}${attrs}>${label}</button></p>`
        : `<p class="actions"><input type="submit"${name ? ` name="${esc(name)}"` : ''} value="${esc(o.value ?? label)}"${attrs}></p>`;
      case 'textarea': return `<p class="field${bad(name) ? ' has-error' : ''}">${lab}<br><textarea id="${id}" name="${esc(name)}" rows="7" cols="50"${ph}${req}${attrs}></textarea>${tip(name)}</p>`;
      case 'select': return `<p class="field${bad(name) ? ' has-error' : ''}">${lab}<br><select id="${id}" name="${esc(name)}"${req}${attrs}>${o.options.map(([v, t]) => `<option value="${esc(v)}">${t}</option>`).join('')}</select>${tip(name)}</p>`;
      case 'checkbox': return `<p class="field checkbox${bad(name) ? ' has-error' : ''}"><input type="checkbox" id="${id}" name="${esc(name)}" value="${esc(o.value ?? 'on')}"${req}${attrs}> <label for="${id}">${label}</label>${tip(name)}</p>`;
      default: return `<p class="field${bad(name) ? ' has-error' : ''}">${lab}<br><input type="${kind}" id="${id}" name="${esc(name)}" value=""${ph}${req}${attrs}>${tip(name)}</p>`;
    }
  }).join('\n');
}

// o: name, builder, brand, lang, charset, meta, contentType, head, nav, footer, home (body HTML),
// contact (path), title, intro (HTML above the form), outro (HTML below), fields, action, method,
// enctype, formAttrs, required, emails, honeypots, equals, check, tokens, captcha, thanks: {path?,
// status?, title, html} (a path: a redirect there; none: the text in place of the form), errorTitle,
// robots, pages, redirects, distractors, expect, notes.
export function plainSite(o) {
  const lang = o.lang || 'en';
  const brand = o.brand;
  const base = { lang, charset: o.charset || 'utf-8', meta: o.meta !== false, head: o.head || '', brand,
                 nav: o.nav || [['/', 'Home'], [o.contact, 'Contact']], footer: o.footer || '' };
  const method = (o.method || 'POST').toUpperCase();
  const formHtml = (ctx, errors) => `<form ${o.formAttrs ? o.formAttrs + ' ' : ''}action="${esc(o.actionAttr ?? o.action)}" method="${method.toLowerCase()}"${o.enctype ? ` enctype="${o.enctype}"` : ''}>
${errors ? `<div class="form-errors" role="alert"><p>${o.errorTitle || ERR[lang] || ERR.en}</p><ul>${errors.map((e) => `<li>${esc(e.includes(':') ? e.slice(e.indexOf(':') + 1).trim() : e)}</li>`).join('')}</ul></div>` : ''}
${renderFields(typeof o.fields === 'function' ? o.fields(ctx) : o.fields, errors)}
</form>`;
  const contactPage = (ctx, errors) => page({
    ...base, title: o.title || brand,
    body: `<article><h1>${o.heading || 'Contact'}</h1>
${o.intro || ''}
${formHtml(ctx, errors)}
${o.outro || ''}
</article>`,
  });
  const thanks = o.thanks || {};
  const thanksPage = page({ ...base, title: thanks.title || brand, body: `<article>${thanks.html}</article>` });
  const pages = {
    '/': page({ ...base, title: brand, body: o.home || `<article><h1>${brand}</h1><p>Welcome.</p></article>` }),
    [o.contact]: (ctx) => contactPage(ctx, null),
    ...(thanks.path ? { [thanks.path]: thanksPage } : {}),
    ...(o.pages || {}),
  };
  const form = o.noForm ? undefined : {
    action: o.action, method, required: o.required || [], emails: o.emails || [], honeypots: o.honeypots || [],
    equals: o.equals, check: o.check, tokens: o.tokens, captcha: o.captcha,
    success: () => (thanks.path ? { status: thanks.status || 303, redirect: thanks.path } : thanksPage),
    failure: (ctx, f, errors) => ({ status: o.errorStatus || 200, body: contactPage(ctx, errors) }),
  };
  return {
    name: o.name, builder: o.builder || 'custom', charset: o.charset || 'utf-8', contentType: o.contentType,
    contact: o.contactExpected === undefined ? o.contact : o.contactExpected, path: o.path || '/',
    notes: o.notes, robots: o.robots === undefined ? 'User-agent: *\nDisallow: /admin/\n' : o.robots, robotsStatus: o.robotsStatus,
    pages, redirects: o.redirects, distractors: o.distractors, form, expect: o.expect,
  };
}
