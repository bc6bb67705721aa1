// Sites built on web frameworks and hosted builders: Drupal Webform, Django, Rails and Laravel
// (each with its CSRF token and the cookie it must come back with), Webflow (a GET form and its
// w-form-done block), Netlify Forms (its bot-field), and the JavaScript-only embeds of HubSpot,
// Typeform and Wix.
import crypto from 'node:crypto';
import { b64url, esc, hex, page, rand } from './lib.mjs';
import { renderFields } from './plain.mjs';

const origin = (ctx) => `http://${ctx.req.headers.host}`;

// ---- Drupal 10 + Webform + Honeypot ------------------------------------------------------------------
function drupal() {
  const nav = `<nav role="navigation" aria-labelledby="block-main-menu" id="block-main"><h2 class="visually-hidden" id="block-main-menu">Main navigation</h2><ul class="menu"><li class="menu-item"><a href="/" data-drupal-link-system-path="&lt;front&gt;">Home</a></li><li class="menu-item"><a href="/research">Research</a></li><li class="menu-item"><a href="/contact" data-drupal-link-system-path="webform/contact">Contact</a></li></ul></nav>`;
  const blocks = (ctx) => `<div class="search-block-form block block-search" data-drupal-selector="search-block-form" id="block-search" role="search">
<form action="/search/node" method="get" id="search-block-form" accept-charset="UTF-8"><div class="js-form-item form-item js-form-type-search form-item-keys js-form-item-keys form-no-label"><label for="edit-keys" class="visually-hidden">Search</label><input title="Enter the terms you wish to search for." data-drupal-selector="edit-keys" type="search" id="edit-keys" name="keys" value="" size="15" maxlength="128" class="form-search" /></div><div data-drupal-selector="edit-actions" class="form-actions js-form-wrapper form-wrapper" id="edit-actions"><input data-drupal-selector="edit-submit" type="submit" id="edit-submit" value="Search" class="button js-form-submit form-submit" /></div></form></div>
<div id="block-userlogin" role="form" class="block block-user block-user-login-block"><h2>User login</h2>
<form class="user-login-form" data-drupal-selector="user-login-form" action="/node?destination=/contact" method="post" id="user-login-form" accept-charset="UTF-8"><div class="js-form-item form-item js-form-type-textfield form-item-name js-form-item-name"><label for="edit-name" class="js-form-required form-required">Username</label><input autocorrect="none" autocapitalize="none" spellcheck="false" autocomplete="username" data-drupal-selector="edit-name" type="text" id="edit-name" name="name" value="" size="15" maxlength="60" class="form-text required" required="required" aria-required="true" /></div><div class="js-form-item form-item js-form-type-password form-item-pass js-form-item-pass"><label for="edit-pass" class="js-form-required form-required">Password</label><input autocomplete="current-password" data-drupal-selector="edit-pass" type="password" id="edit-pass" name="pass" size="15" maxlength="128" class="form-text required" required="required" aria-required="true" /></div><input autocomplete="off" data-drupal-selector="form-${rand(43).toLowerCase()}" type="hidden" name="form_build_id" value="form-${b64url(32)}" /><input data-drupal-selector="edit-user-login-form" type="hidden" name="form_id" value="user_login_form" /><div data-drupal-selector="edit-actions" class="form-actions js-form-wrapper form-wrapper" id="edit-actions--2"><input data-drupal-selector="edit-submit" type="submit" id="edit-submit--2" name="op" value="Log in" class="button js-form-submit form-submit" /></div></form></div>`;
  // Drupal keeps HTML ids unique: the login block's name field took "edit-name" first
  const item = (type, name, label, input, errors) => {
    const bad = errors && errors.find((e) => e.startsWith(name + ':'));
    const id = name === 'name' ? 'edit-name--2' : `edit-${name}`;
    return `<div class="js-form-item form-item js-form-type-${type} form-item-${name} js-form-item-${name}${bad ? ' form-item--error' : ''}"><label for="${id}" class="js-form-required form-required">${label}</label>${input}${bad ? `<div class="form-item--error-message"><strong>${label} field is required.</strong></div>` : ''}</div>`;
  };
  const form = (ctx, errors) => {
    const build = ctx.issue(() => 'form-' + b64url(32));
    const hpt = ctx.issue(() => b64url(32));
    return `${errors ? `<div data-drupal-messages><div role="contentinfo" aria-label="Error message" class="messages messages--error"><h2 class="visually-hidden">Error message</h2><ul class="messages__list">${errors.map((e) => `<li class="messages__item">${esc(e.split(':')[0])} field is required.</li>`).join('')}</ul></div></div>` : ''}
<form class="webform-submission-form webform-submission-add-form webform-submission-contact-form webform-submission-contact-add-form js-webform-details-toggle webform-details-toggle" data-drupal-selector="webform-submission-contact-add-form" action="/contact" method="post" id="webform-submission-contact-add-form" accept-charset="UTF-8">
${item('textfield', 'name', 'Your Name', '<input data-drupal-selector="edit-name" type="text" id="edit-name--2" name="name" value="" size="60" maxlength="255" class="form-text required" required="required" aria-required="true" />', errors)}
${item('email', 'email', 'Your Email', '<input data-drupal-selector="edit-email" type="email" id="edit-email" name="email" value="" size="60" maxlength="254" class="form-email required" required="required" aria-required="true" />', errors)}
${item('textfield', 'subject', 'Subject', '<input data-drupal-selector="edit-subject" type="text" id="edit-subject" name="subject" value="" size="60" maxlength="255" class="form-text required" required="required" aria-required="true" />', errors)}
${item('textarea', 'message', 'Message', '<div class="form-textarea-wrapper"><textarea data-drupal-selector="edit-message" id="edit-message" name="message" rows="5" cols="60" class="form-textarea required resize-vertical" required="required" aria-required="true"></textarea></div>', errors)}
<div data-drupal-selector="edit-actions" class="form-actions webform-actions js-form-wrapper form-wrapper" id="edit-actions--3"><input class="webform-button--submit button button--primary js-form-submit form-submit" data-drupal-selector="edit-actions-submit" type="submit" id="edit-actions-submit" name="op" value="Send message" /></div>
<input autocomplete="off" data-drupal-selector="${build.toLowerCase().replace(/_/g, '-')}" type="hidden" name="form_build_id" value="${build}" />
<input data-drupal-selector="edit-webform-submission-contact-add-form" type="hidden" name="form_id" value="webform_submission_contact_add_form" />
<input data-drupal-selector="edit-honeypot-time" type="hidden" name="honeypot_time" value="${hpt}" />
<div class="url-textfield js-form-wrapper form-wrapper" data-drupal-selector="edit-url-wrapper" style="display: none !important;" id="edit-url-wrapper"><div class="js-form-item form-item js-form-type-textfield form-item-url js-form-item-url"><label for="edit-url">Leave this field blank</label><input autocomplete="off" data-drupal-selector="edit-url" type="text" id="edit-url" name="url" value="" size="20" maxlength="128" class="form-text" /></div></div>
</form>`;
  };
  const html = (ctx, title, content) => `<!DOCTYPE html>
<html lang="en" dir="ltr">
<head>
<meta charset="utf-8" />
<meta name="Generator" content="Drupal 10 (https://www.drupal.org)" />
<meta name="MobileOptimized" content="width" />
<title>${title} | Institute of Applied Optics</title>
<link rel="stylesheet" media="all" href="/core/themes/olivero/css/base/base.css?s8b7x2" />
</head>
<body class="path-webform">
<a href="#main-content" class="visually-hidden focusable skip-link">Skip to main content</a>
<div class="dialog-off-canvas-main-canvas" data-off-canvas-main-canvas>
<header class="site-header"><div class="site-branding"><a href="/" rel="home">Institute of Applied Optics</a></div>${nav}</header>
<aside class="region region--sidebar">${blocks(ctx)}</aside>
<main role="main"><a id="main-content" tabindex="-1"></a><div class="region region--content">
<h1 class="title page-title">${title}</h1>
${content}
</div></main>
<footer class="site-footer"><p>Institute of Applied Optics &middot; 4 Lens Lane, Cambridge</p></footer>
</div>
</body>
</html>`;
  return {
    name: 'drupal-webform', builder: 'drupal-webform', contact: '/contact',
    notes: 'Drupal 10 with the Webform and Honeypot modules: form_build_id and honeypot_time server tokens, form_id, the "url" trap field ("Leave this field blank", inline display:none) — a trap named like the website field — and op=Send message. The sidebar holds the search block (GET /search/node) and the user login form (POST /node). Success is a 303 to the confirmation page.',
    robots: 'User-agent: *\n# Directories\nDisallow: /core/\nDisallow: /profiles/\n# Paths (clean URLs)\nDisallow: /admin/\nDisallow: /user/login\nDisallow: /search/\n',
    distractors: { '/search/node': 'search', '/node': 'login' },
    pages: {
      '/': (ctx) => html(ctx, 'Welcome', '<p>We study light.</p>'),
      '/contact': (ctx) => html(ctx, 'Contact', form(ctx, null)),
      '/webform/contact/confirmation': (ctx) => html(ctx, 'Contact', '<div class="webform-confirmation"><div class="webform-confirmation__message">Your message has been sent. Thank you for contacting us.</div><div class="webform-confirmation__back"><a href="/contact" rel="prev" title="Back to form">Back to form</a></div></div>'),
    },
    form: {
      action: '/contact', tokens: ['form_build_id', 'honeypot_time'], honeypots: ['url'],
      required: ['name', 'email', 'subject', 'message'], emails: ['email'],
      equals: { form_id: 'webform_submission_contact_add_form', op: 'Send message' },
      success: () => ({ status: 303, redirect: `/webform/contact/confirmation?token=${b64url(16)}` }),
      failure: (ctx, f, errors) => html(ctx, 'Contact', form(ctx, errors)),
    },
    expect: {
      outcome: 'submitted', posts: 1, confirm: 'Your message has been sent.',
      form: { method: 'POST', action: '/contact', enctype: 'application/x-www-form-urlencoded' },
      fields: { name: '$sender.name', email: '$sender.email', subject: '$subject', message: '$message',
                op: 'Send message', form_build_id: '$any', form_id: 'webform_submission_contact_add_form',
                honeypot_time: '$any', url: '' },
    },
  };
}

// ---- Django (CsrfViewMiddleware) ------------------------------------------------------------------
const DJ = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const djMask = (secret) => {
  const mask = rand(32, DJ);
  return mask + [...secret].map((c, i) => DJ[(DJ.indexOf(c) + DJ.indexOf(mask[i])) % 62]).join('');
};
const djUnmask = (token) => {
  const mask = token.slice(0, 32), cipher = token.slice(32);
  return [...cipher].map((c, i) => DJ[(DJ.indexOf(c) - DJ.indexOf(mask[i]) + 62) % 62]).join('');
};
function django() {
  const shell = (title, body) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${title} — Polaris Robotics</title><link rel="stylesheet" href="/static/css/site.3f2a9c.css"></head>
<body><header><a href="/" class="logo">Polaris Robotics</a><nav><a href="/products/">Products</a> <a href="/contact/">Contact</a></nav></header>
<main>${body}</main><footer><p>Polaris Robotics GmbH</p></footer></body></html>`;
  const contact = (ctx, errors) => {
    let secret = ctx.cookies.csrftoken;
    if (!secret || !/^[A-Za-z0-9]{32}$/.test(secret)) {
      secret = rand(32, DJ);
      ctx.setCookie('csrftoken', secret, 'expires=Sun, 05 Dec 2027 10:00:00 GMT; Max-Age=31449600; Path=/; SameSite=Lax');
    }
    const row = (label, input, name) => {
      const bad = errors && errors.find((e) => e.startsWith(name + ':'));
      return `<p>${bad ? '<ul class="errorlist"><li>This field is required.</li></ul>' : ''}<label for="id_${name}">${label}:</label> ${input}</p>`;
    };
    return shell('Contact', `<h1>Contact us</h1>
<form method="post" action="/contact/" novalidate><input type="hidden" name="csrfmiddlewaretoken" value="${djMask(secret)}">
${row('Name', '<input type="text" name="name" maxlength="100" required id="id_name">', 'name')}
${row('Email', '<input type="email" name="email" maxlength="320" required id="id_email">', 'email')}
${row('Company', '<input type="text" name="company" maxlength="100" id="id_company">', 'company')}
${row('Subject', '<input type="text" name="subject" maxlength="200" required id="id_subject">', 'subject')}
${row('Message', '<textarea name="message" cols="40" rows="10" required id="id_message">\n</textarea>', 'message')}
<button type="submit">Send</button>
</form>`);
  };
  return {
    name: 'django-robotics', builder: 'django', contact: '/contact/',
    notes: 'Django with CsrfViewMiddleware: the csrftoken cookie (set on the contact page) must come back with the masked csrfmiddlewaretoken (unmasked and compared as Django does); a present Origin must be the site\'s own. A post without the cookie gets Django\'s 403 "CSRF verification failed". Success is a 302 to /contact/thanks/.',
    robots: null,
    pages: {
      '/': shell('Home', '<h1>Robots for small factories</h1><p>Cobots that fit your floor.</p>'),
      '/contact/': (ctx) => contact(ctx, null),
      '/contact/thanks/': shell('Thank you', '<h1>Thank you!</h1><p>We have received your message and will get back to you shortly.</p>'),
    },
    form: {
      action: '/contact/', required: ['name', 'email', 'subject', 'message'], emails: ['email'],
      csrf: (ctx, f) => {
        const o = ctx.req.headers.origin;
        if (o && o !== 'null' && o !== origin(ctx)) return `Origin checking failed - ${o} does not match any trusted origins.`;
        const secret = ctx.cookies.csrftoken;
        if (!secret) return 'CSRF cookie not set.';
        const t = f.get('csrfmiddlewaretoken') || '';
        if (!/^[A-Za-z0-9]{64}$/.test(t) || djUnmask(t) !== secret) return 'CSRF token incorrect.';
        return null;
      },
      csrfFailure: (ctx) => ({ status: 403, body: '<!DOCTYPE html><html lang="en"><head><meta http-equiv="content-type" content="text/html; charset=utf-8"><title>403 Forbidden</title></head><body><div id="summary"><h1>Forbidden <span>(403)</span></h1><p>CSRF verification failed. Request aborted.</p></div></body></html>' }),
      success: () => ({ status: 302, redirect: '/contact/thanks/' }),
      failure: (ctx, f, errors) => contact(ctx, errors),
    },
    expect: {
      outcome: 'submitted', posts: 1, confirm: 'We have received your message', cookies: ['csrftoken'],
      form: { method: 'POST', action: '/contact/', enctype: 'application/x-www-form-urlencoded' },
      fields: { csrfmiddlewaretoken: '$any', name: '$sender.name', email: '$sender.email', company: '$sender.company',
                subject: '$subject', message: '$message' },
    },
  };
}

// ---- Rails 5 (form_with, authenticity_token, the session cookie) ---------------------------------
function rails() {
  const COOKIE = '_crumb_bakery_session';
  const session = (ctx) => {
    if (ctx.rails) return ctx.rails;
    const sid = (ctx.cookies[COOKIE] || '').split('--')[0];
    let s = sid && ctx.state.sessions.get(sid);
    if (!s) {
      const id = b64url(24);
      s = { id, token: crypto.randomBytes(32), flash: null };
      ctx.state.sessions.set(id, s);
      ctx.setCookie(COOKIE, `${id}--${hex(40)}`, 'path=/; HttpOnly; SameSite=Lax');
    }
    ctx.rails = s;
    return s;
  };
  const masked = (raw) => {
    const pad = crypto.randomBytes(32);
    return Buffer.concat([pad, Buffer.from(raw.map((b, i) => b ^ pad[i]))]).toString('base64');
  };
  const unmask = (t) => {
    const b = Buffer.from(t, 'base64');
    if (b.length !== 64) return null;
    return Buffer.from([...b.slice(32)].map((x, i) => x ^ b[i]));
  };
  const layout = (ctx, title, body) => {
    const s = session(ctx);
    const flash = s.flash;
    s.flash = null;
    return `<!DOCTYPE html>
<html>
<head>
<title>${title} | Crumb &amp; Co. Bakery</title>
<meta name="csrf-param" content="authenticity_token" />
<meta name="csrf-token" content="${masked([...s.token])}" />
<link rel="stylesheet" media="all" href="/assets/application-5b1f0c2e.css" data-turbolinks-track="reload" />
</head>
<body>
<nav class="navbar"><a href="/">Crumb &amp; Co.</a> <a href="/menu">Our bread</a> <a href="/contact">Contact</a></nav>
${flash ? `<p class="notice" id="notice">${flash}</p>` : ''}
${body}
</body>
</html>`;
  };
  const contact = (ctx, errors) => {
    const s = session(ctx);
    return layout(ctx, 'Contact', `<h1>Contact</h1>
${errors ? `<div id="error_explanation"><h2>${errors.length} error${errors.length > 1 ? 's' : ''} prohibited this message from being sent:</h2><ul>${errors.map((e) => `<li>${esc(e.split(':')[0].replace(/^contact\[(\w+)\]$/, '$1'))} can't be blank</li>`).join('')}</ul></div>` : ''}
<form action="/contact_messages" accept-charset="UTF-8" data-remote="true" method="post"><input name="utf8" type="hidden" value="&#x2713;" /><input type="hidden" name="authenticity_token" value="${masked([...s.token])}" />
<div class="field"><label for="contact_name">Name</label><input type="text" name="contact[name]" id="contact_name" /></div>
<div class="field"><label for="contact_email">Email</label><input type="email" name="contact[email]" id="contact_email" /></div>
<div class="field"><label for="contact_phone">Phone</label><input type="tel" name="contact[phone]" id="contact_phone" /></div>
<div class="field"><label for="contact_message">Message</label><textarea name="contact[message]" id="contact_message"></textarea></div>
<div class="actions"><input type="submit" name="commit" value="Send message" data-disable-with="Send message" /></div>
</form>`);
  };
  return {
    name: 'rails-bakery', builder: 'rails', contact: '/contact',
    notes: 'Rails 5 form_with: utf8=✓, a masked authenticity_token (base64 with + / =, a one-time pad over the session\'s token) bound to the _crumb_bakery_session cookie, contact[...] names, the named commit button. A post without the session cookie gets Rails\' 422. Success is a 302 to / with the flash notice.',
    robots: '# See https://www.robotstxt.org/robotstxt.html for documentation on how to use the robots.txt file\n',
    pages: {
      '/': (ctx) => layout(ctx, 'Home', '<h1>Fresh bread every morning</h1><p>Sourdough, rye and buns since 1987.</p>'),
      '/contact': (ctx) => contact(ctx, null),
    },
    form: {
      action: '/contact_messages', required: ['contact[name]', 'contact[email]', 'contact[message]'], emails: ['contact[email]'],
      equals: { utf8: '✓', commit: 'Send message' },
      csrf: (ctx, f) => {
        const sid = (ctx.cookies[COOKIE] || '').split('--')[0];
        const s = sid && ctx.state.sessions.get(sid);
        if (!s) return "Can't verify CSRF token authenticity (no session).";
        const raw = unmask(f.get('authenticity_token') || '');
        if (!raw || !raw.equals(s.token)) return "Can't verify CSRF token authenticity.";
        return null;
      },
      csrfFailure: () => ({ status: 422, body: '<!DOCTYPE html><html><head><title>The change you wanted was rejected (422)</title></head><body><div class="dialog"><h1>The change you wanted was rejected.</h1><p>Maybe you tried to change something you didn\'t have access to.</p></div></body></html>' }),
      success: (ctx) => {
        session(ctx).flash = 'Thank you for your message! We will be in touch soon.';
        return { status: 302, redirect: '/' };
      },
      failure: (ctx, f, errors) => ({ status: 422, body: contact(ctx, errors) }),
    },
    expect: {
      outcome: 'submitted', posts: 1, confirm: 'Thank you for your message!', cookies: ['_crumb_bakery_session'],
      form: { method: 'POST', action: '/contact_messages', enctype: 'application/x-www-form-urlencoded' },
      fields: { utf8: '✓', authenticity_token: '$any', 'contact[name]': '$sender.name', 'contact[email]': '$sender.email',
                'contact[phone]': '$sender.phone', 'contact[message]': '$message', commit: 'Send message' },
    },
  };
}

// ---- Laravel (@csrf, XSRF-TOKEN and laravel_session) ----------------------------------------------
function laravel() {
  const enc = (v) => Buffer.from(JSON.stringify({ iv: b64url(16), value: Buffer.from(v).toString('base64'), mac: hex(64), tag: '' })).toString('base64');
  const session = (ctx) => {
    if (ctx.laravel) return ctx.laravel;
    const c = decodeURIComponent(ctx.cookies.laravel_session || '');
    let s = c && ctx.state.sessions.get(c);
    if (!s) {
      const id = enc(rand(40));
      s = { id, token: rand(40), flash: null, errors: null };
      ctx.state.sessions.set(id, s);
    }
    // Laravel sends both cookies again on every answer
    ctx.setCookie('XSRF-TOKEN', encodeURIComponent(enc(s.token)), 'expires=Sun, 06 Dec 2026 20:00:00 GMT; Max-Age=7200; path=/; samesite=lax');
    ctx.setCookie('laravel_session', encodeURIComponent(s.id), 'expires=Sun, 06 Dec 2026 20:00:00 GMT; Max-Age=7200; path=/; httponly; samesite=lax');
    ctx.laravel = s;
    return s;
  };
  const find = (ctx) => ctx.state.sessions.get(decodeURIComponent(ctx.cookies.laravel_session || ''));
  const contact = (ctx) => {
    const s = session(ctx);
    const flash = s.flash, errors = s.errors;
    s.flash = s.errors = null;
    const err = (n) => (errors && errors.find((e) => e.startsWith(n + ':')) ? `<div class="invalid-feedback">The ${n} field is required.</div>` : '');
    return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="csrf-token" content="${s.token}">
<title>Contact - Ledgerly</title>
<link rel="preload" as="style" href="/build/assets/app-4ed993c7.css" /><link rel="stylesheet" href="/build/assets/app-4ed993c7.css" />
</head>
<body class="antialiased">
<nav class="navbar"><a class="navbar-brand" href="/">Ledgerly</a><a href="/pricing">Pricing</a> <a href="/contact">Contact</a> <a href="/login">Log in</a></nav>
<div class="container">
<h1>Contact sales</h1>
${flash ? `<div class="alert alert-success" role="alert">${flash}</div>` : ''}
<form method="POST" action="/contact">
<input type="hidden" name="_token" value="${s.token}" autocomplete="off">
<div class="mb-3"><label for="name" class="form-label">Full name</label><input type="text" class="form-control" id="name" name="name" value="" required>${err('name')}</div>
<div class="mb-3"><label for="email" class="form-label">Work email</label><input type="email" class="form-control" id="email" name="email" value="" required>${err('email')}</div>
<div class="mb-3"><label for="company" class="form-label">Company</label><input type="text" class="form-control" id="company" name="company" value=""></div>
<div class="mb-3"><label for="job_title" class="form-label">Job title</label><input type="text" class="form-control" id="job_title" name="job_title" value=""></div>
<div class="mb-3"><label for="message" class="form-label">How can we help?</label><textarea class="form-control" id="message" name="message" rows="5" required></textarea>${err('message')}</div>
<button type="submit" class="btn btn-primary">Send message</button>
</form>
</div>
</body>
</html>`;
  };
  return {
    name: 'laravel-saas', builder: 'laravel', contact: '/contact',
    notes: 'Laravel 10: @csrf\'s _token, bound to the laravel_session cookie (XSRF-TOKEN is set too); a post without the session gets 419 Page Expired. Success is a 302 back to /contact showing the flash message above the form again (the form is still on the page).',
    robots: 'User-agent: *\nDisallow:\n',
    pages: {
      '/': (ctx) => { session(ctx); return page({ title: 'Ledgerly', brand: 'Ledgerly', nav: [['/pricing', 'Pricing'], ['/contact', 'Contact']], body: '<h1>Bookkeeping that does itself</h1>' }); },
      '/contact': (ctx) => contact(ctx),
    },
    form: {
      action: '/contact', required: ['name', 'email', 'message'], emails: ['email'],
      csrf: (ctx, f) => {
        const s = find(ctx);
        if (!s) return 'CSRF token mismatch (no session).';
        if ((f.get('_token') || '') !== s.token) return 'CSRF token mismatch.';
        return null;
      },
      csrfFailure: () => ({ status: 419, body: '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Page Expired</title></head><body><div class="flex-center"><div class="code">419</div><div class="message">Page Expired</div></div></body></html>' }),
      success: (ctx) => {
        session(ctx).flash = 'Thank you! Your message has been sent. Our team will contact you within one business day.';
        return { status: 302, redirect: '/contact' };
      },
      failure: (ctx, f, errors) => {
        session(ctx).errors = errors;
        return { status: 302, redirect: '/contact' };
      },
    },
    expect: {
      outcome: 'submitted', posts: 1, confirm: 'Your message has been sent.', cookies: ['laravel_session'],
      form: { method: 'POST', action: '/contact', enctype: 'application/x-www-form-urlencoded' },
      fields: { _token: '$any', name: '$sender.name', email: '$sender.email', company: '$sender.company',
                job_title: '$sender.title', message: '$message' },
    },
  };
}

// ---- Webflow (a GET form; w-form-done) -------------------------------------------------------------
function webflow() {
  const contact = (state) => `<!DOCTYPE html><!-- This site was created in Webflow. https://webflow.com --><!-- Last Published: Mon Nov 04 2026 09:12:44 GMT+0000 (Coordinated Universal Time) -->
<html data-wf-domain="www.pixelfjord.example" data-wf-page="65a1f2c3d4e5f6a7b8c9d0e1" data-wf-site="65a1f2c3d4e5f6a7b8c9d0aa" lang="en">
<head><meta charset="utf-8"/><title>Contact | Pixelfjord</title><meta content="width=device-width, initial-scale=1" name="viewport"/><meta content="Webflow" name="generator"/>
<link href="https://assets-global.website-files.com/65a1f2c3d4e5f6a7b8c9d0aa/css/pixelfjord.webflow.4b6c2d1e0.css" rel="stylesheet" type="text/css"/>
<style>.w-form-done,.w-form-fail{display:none}</style></head>
<body>
<div data-collapse="medium" role="banner" class="navbar w-nav"><a href="/" class="brand w-nav-brand">Pixelfjord</a><nav role="navigation" class="nav-menu w-nav-menu"><a href="/work" class="nav-link w-nav-link">Work</a><a href="/contact" aria-current="page" class="nav-link w-nav-link w--current">Contact</a></nav></div>
<section class="section"><h1 class="heading">Start a project</h1>
<div class="form-block w-form">
<form id="email-form" name="email-form" data-name="Email Form" method="get" class="form" data-wf-page-id="65a1f2c3d4e5f6a7b8c9d0e1" data-wf-element-id="9b3c2d1e-aaaa-bbbb-cccc-000000000001"${state ? ' style="display:none"' : ''}>
<label for="Name">Name</label><input class="w-input" maxlength="256" name="Name" data-name="Name" placeholder="" type="text" id="Name" required=""/>
<label for="Email">Email Address</label><input class="w-input" maxlength="256" name="Email" data-name="Email" placeholder="" type="email" id="Email" required=""/>
<label for="Company">Company</label><input class="w-input" maxlength="256" name="Company" data-name="Company" placeholder="" type="text" id="Company"/>
<label for="Message">Message</label><textarea id="Message" name="Message" maxlength="5000" data-name="Message" placeholder="Tell us about your project" class="w-input" required=""></textarea>
<input type="submit" data-wait="Please wait..." class="submit-button w-button" value="Submit"/>
</form>
<div class="success-message w-form-done" tabindex="-1" role="region" aria-label="Email Form success"${state === 'done' ? ' style="display:block"' : ''}><div>Thank you! Your submission has been received!</div></div>
<div class="w-form-fail" tabindex="-1" role="region" aria-label="Email Form failure"${state === 'fail' ? ' style="display:block"' : ''}><div>Oops! Something went wrong while submitting the form.</div></div>
</div></section>
<script src="https://d3e54v103j8qbb.cloudfront.net/js/jquery-3.5.1.min.dc5e7f18c8.js" type="text/javascript"></script>
<script src="https://assets-global.website-files.com/65a1f2c3d4e5f6a7b8c9d0aa/js/webflow.6d3f1e2a.js" type="text/javascript"></script>
</body></html>`;
  return {
    name: 'webflow-studio', builder: 'webflow', contact: '/contact',
    notes: 'Webflow\'s form: method="get" without an action (real Webflow sends it with JavaScript; this site takes the GET itself), data-name attributes, an unnamed submit; the answer hides the form and shows the w-form-done block ("Thank you! Your submission has been received!"), which is in every page but hidden by the stylesheet.',
    robots: 'User-agent: *\nAllow: /\n',
    pages: { '/': contact(null).replace(/<section[\s\S]*<\/section>/, '<section><h1>Brand and web design</h1></section>').replace(/<title>Contact/, '<title>Home'), '/contact': contact(null) },
    form: {
      action: '/contact', method: 'GET', required: ['Name', 'Email', 'Message'], emails: ['Email'],
      success: () => contact('done'), failure: () => contact('fail'),
    },
    expect: {
      outcome: 'submitted', posts: 1, confirm: 'Thank you! Your submission has been received!',
      form: { method: 'GET', action: '/contact', enctype: 'application/x-www-form-urlencoded' },
      fields: { Name: '$sender.name', Email: '$sender.email', Company: '$sender.company', Message: '$message' },
    },
  };
}

// ---- Netlify Forms (netlify-honeypot) --------------------------------------------------------------
function netlify() {
  const contact = page({
    title: 'Contact — Saltmarsh Press', brand: 'Saltmarsh Press', nav: [['/', 'Books'], ['/authors/', 'Authors'], ['/contact/', 'Contact']],
    head: '<style>.hidden{display:none}</style>',
    body: `<h1>Write to the editors</h1>
<form name="contact" method="POST" data-netlify="true" netlify-honeypot="bot-field" action="/contact/">
  <input type="hidden" name="form-name" value="contact" />
  <p class="hidden"><label>Don’t fill this out if you’re human: <input name="bot-field" /></label></p>
  <p><label>Your Name: <input type="text" name="name" /></label></p>
  <p><label>Your Email: <input type="email" name="email" /></label></p>
  <p><label>Message: <textarea name="message"></textarea></label></p>
  <p><button type="submit">Send</button></p>
</form>`,
  });
  const done = `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Success</title></head><body><div class="card"><h1>Thank you!</h1><p>Your form submission has been received.</p><p><a href="/">&larr; Back to our site</a></p></div></body></html>`;
  return {
    name: 'netlify-press', builder: 'netlify-forms', contact: '/contact/',
    notes: 'Netlify Forms: form-name hidden field and the netlify-honeypot "bot-field" (in a class-hidden paragraph, labelled "Don’t fill this out if you’re human"); Netlify\'s own success page (200).',
    robots: null,
    pages: { '/': page({ title: 'Saltmarsh Press', brand: 'Saltmarsh Press', nav: [['/', 'Books'], ['/contact/', 'Contact']], body: '<h1>Small books about the coast</h1>' }), '/contact/': contact },
    form: {
      action: '/contact/', required: ['name', 'email', 'message'], emails: ['email'], honeypots: ['bot-field'],
      equals: { 'form-name': 'contact' },
      success: () => done,
      failure: () => ({ status: 422, body: '<!DOCTYPE html><html><body><h1>Form submission failed</h1><p>Please go back and try again.</p></body></html>' }),
    },
    expect: {
      outcome: 'submitted', posts: 1, confirm: 'Your form submission has been received.',
      form: { method: 'POST', action: '/contact/', enctype: 'application/x-www-form-urlencoded' },
      fields: { 'form-name': 'contact', 'bot-field': '', name: '$sender.name', email: '$sender.email', message: '$message' },
    },
  };
}

// ---- JavaScript-only embeds ---------------------------------------------------------------------
function embed(name, builder, brand, embedName, headExtra, body, notes) {
  return {
    name, builder, contact: '/contact', notes, robots: null,
    pages: {
      '/': page({ title: brand, brand, nav: [['/', 'Home'], ['/contact', 'Contact']], body: `<h1>${brand}</h1><p>Welcome.</p>` }),
      '/contact': page({ title: `Contact | ${brand}`, brand, nav: [['/', 'Home'], ['/contact', 'Contact']], head: headExtra, body: `<h1>Contact us</h1>\n${body}` }),
    },
    expect: { outcome: 'skipped', reason: 'js_required', embed: embedName, posts: 0, fields: {} },
  };
}
const hubspot = () => embed('hubspot-embed', 'hubspot', 'Brightwave Analytics', 'hubspot', '',
  `<p>Fill in the form and a specialist will reply.</p>
<script charset="utf-8" type="text/javascript" src="//js-eu1.hsforms.net/forms/embed/v2.js"></script>
<script>
  hbspt.forms.create({
    region: "eu1",
    portalId: "26123456",
    formId: "5c1e2f3a-9b8d-4c7e-a6f5-1d2c3b4a5e6f"
  });
</script>`, 'A HubSpot form embed (js-eu1.hsforms.net v2.js and hbspt.forms.create): no form in the markup.');
const typeform = () => embed('typeform-embed', 'typeform', 'Orchard Yoga', 'typeform', '',
  `<div data-tf-live="01HQ7ZK3M4N5P6Q7R8S9T0VWXY"></div><script src="//embed.typeform.com/next/embed.js"></script>`,
  'A Typeform live embed (data-tf-live and embed.typeform.com/next/embed.js).');
function wix() {
  const head = `<meta name="generator" content="Wix.com Website Builder"/>
<meta http-equiv="X-Wix-Meta-Site-Id" content="4f3e2d1c-0b9a-8877-6655-443322110000"/>
<link rel="preconnect" href="https://static.parastorage.com" crossorigin/>
<script>window.viewerModel = {"site":{"metaSiteId":"4f3e2d1c-0b9a-8877-6655-443322110000"},"requestUrl":"/contact","siteFeatures":["wixForms","contactForm"]};</script>
<script src="https://static.parastorage.com/services/wix-thunderbolt/dist/main.4c1a2b3d.bundle.min.js" async></script>`;
  const s = embed('wix-site', 'wix', 'Juniper Florals', 'wix', head,
    `<div id="SITE_CONTAINER"><div id="main_MF"><div id="comp-lt8xq2a1" class="comp-lt8xq2a1 wixui-form" data-testid="form-container"></div></div></div>`,
    'A Wix page: the Wix generator meta, the thunderbolt script from static.parastorage.com and an empty wixui-form container (Wix renders everything with JavaScript).');
  return s;
}

export const APP_SITES = [drupal(), django(), rails(), laravel(), webflow(), netlify(), hubspot(), typeform(), wix()];
export { renderFields };
