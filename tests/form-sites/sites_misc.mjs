// Hand-written sites: plain PHP (PRG to /thanks), a multipart form with a file, every CAPTCHA kind,
// robots rules, opt-out notices, a page without a form, several languages and charsets, contact
// pages found only by a common path or through redirects, validation failures and a honeypot
// placed off-screen.
import { page } from './lib.mjs';
import { plainSite } from './plain.mjs';

const URL_ENC = 'application/x-www-form-urlencoded';
const post = (action, enctype = URL_ENC) => ({ method: 'POST', action, enctype });
const std = (submit = 'Send') => [
  ['text', 'name', 'Name', { required: true, attrs: 'autocomplete="name"' }],
  ['email', 'email', 'Email', { required: true, attrs: 'autocomplete="email"' }],
  ['textarea', 'message', 'Message', { required: true }],
  ['submit', null, submit],
];
const stdExpect = { name: '$sender.name', email: '$sender.email', message: '$message' };

// ---- plain PHP and multipart ----------------------------------------------------------------
const phpPrg = () => plainSite({
  name: 'php-prg', builder: 'php', brand: 'Kestrel Plumbing', contact: '/contact.php', action: '/send.php', actionAttr: 'send.php',
  nav: [['/', 'Home'], ['/services.php', 'Services'], ['/contact.php', 'Contact']],
  intro: '<p>Leaking tap? Call us on 0117 496 0000 or use the form.</p>',
  fields: [
    ['text', 'first_name', 'First name', { required: true }], ['text', 'last_name', 'Last name', { required: true }],
    ['email', 'email', 'Email address', { required: true }], ['tel', 'phone', 'Phone number'],
    ['textarea', 'message', 'How can we help?', { required: true }], ['submit', 'submit', 'Send', { value: 'Send' }],
  ],
  required: ['first_name', 'last_name', 'email', 'message'], emails: ['email'], equals: { submit: 'Send' },
  thanks: { path: '/thanks.html', status: 303, title: 'Thank you', html: '<h1>Thank you for getting in touch!</h1><p>We will call you back within 24 hours.</p>' },
  notes: 'A plain PHP form with a relative action (send.php) and a named submit; Post/Redirect/Get: 303 to /thanks.html.',
  expect: { outcome: 'submitted', posts: 1, confirm: 'Thank you for getting in touch!', form: post('/send.php'),
            fields: { first_name: '$sender.first_name', last_name: '$sender.last_name', email: '$sender.email',
                      phone: '$sender.phone', message: '$message', submit: 'Send' } },
});

const upload = () => plainSite({
  name: 'multipart-upload', builder: 'php', brand: 'Atlas Print Works', contact: '/contact.html', action: '/contact.html',
  enctype: 'multipart/form-data',
  intro: '<p>Send us your artwork or just a question.</p>',
  fields: [
    ['hidden', 'MAX_FILE_SIZE', null, { value: '2097152' }], ...std().slice(0, 2), ['text', 'company', 'Company'],
    ['textarea', 'message', 'Your question', { required: true }],
    ['file', 'attachment', 'Attach a file (optional, PDF or JPG, max 2 MB)', { attrs: 'accept=".pdf,.jpg"' }],
    ['submit', null, 'Send request'],
  ],
  required: ['name', 'email', 'message'], emails: ['email'],
  check: (ctx, f) => (ctx.req.headers['content-type'] || '').startsWith('multipart/form-data') ? [] : ['attachment: the form must be sent as multipart/form-data'],
  thanks: { title: 'Thank you', html: '<h1>Thank you!</h1><p>We received your message and will reply soon.</p>' },
  notes: 'A multipart/form-data form with an optional file input: a careful sender sends it as an empty file part (value ""); the thank-you text replaces the form (200).',
  expect: { outcome: 'submitted', posts: 1, confirm: 'We received your message', form: post('/contact.html', 'multipart/form-data'),
            fields: { MAX_FILE_SIZE: '2097152', name: '$sender.name', email: '$sender.email', company: '$sender.company',
                      message: '$message', attachment: '' } },
});

// ---- CAPTCHAs --------------------------------------------------------------------------------
function captchaSite(name, brand, kind, widget, head, extraFields = [], extraExpect = {}, notes, pages = {}) {
  return plainSite({
    name, builder: 'custom', brand, contact: '/contact', action: '/contact', head, pages,
    fields: [...std().slice(0, 3), ...extraFields, ['raw', widget], ['submit', null, 'Send message']],
    captcha: kind, errorTitle: 'Please verify that you are not a robot.',
    notes: `${notes} Every post is refused and recorded (reason "captcha").`,
    expect: { outcome: 'captcha_required', reason: 'captcha', captcha: kind, posts: 0, fields: { ...stdExpect, ...extraExpect } },
  });
}
const GIF = Buffer.from('R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==', 'base64');
const captchas = () => [
  captchaSite('recaptcha-v2', 'Summit Legal', 'recaptcha_v2',
    '<div class="g-recaptcha" data-sitekey="6LeIxAcTAAAAAJcZVRqyHh71UMIEGNQ_MXjiZKhI"></div>',
    '<script src="https://www.google.com/recaptcha/api.js" async defer></script>', [], {},
    'reCAPTCHA v2 checkbox: div.g-recaptcha[data-sitekey] and api.js.'),
  captchaSite('hcaptcha', 'Ironbridge Security', 'hcaptcha',
    '<div class="h-captcha" data-sitekey="10000000-ffff-ffff-ffff-000000000001"></div>',
    '<script src="https://js.hcaptcha.com/1/api.js" async defer></script>', [], {}, 'hCaptcha: div.h-captcha and js.hcaptcha.com.'),
  captchaSite('turnstile', 'Velvet Coffee Roasters', 'turnstile',
    '<div class="cf-turnstile" data-sitekey="0x4AAAAAAABkMYinukE8nzYS" data-theme="light"></div>',
    '<script src="https://challenges.cloudflare.com/turnstile/v0/api.js" async defer></script>', [], {},
    'Cloudflare Turnstile: div.cf-turnstile and challenges.cloudflare.com/turnstile.'),
  captchaSite('friendly-captcha', 'Nordlicht Software', 'friendly_captcha',
    '<div class="frc-captcha" data-sitekey="FCMGEMUD2KTDSQ5H" data-lang="en"></div>',
    '<script type="module" src="https://cdn.jsdelivr.net/npm/friendly-challenge@0.9.14/widget.module.min.js" async defer></script>\n  <script nomodule src="https://cdn.jsdelivr.net/npm/friendly-challenge@0.9.14/widget.min.js" async defer></script>',
    [], {}, 'Friendly Captcha: div.frc-captcha and the friendly-challenge widget.'),
  captchaSite('image-captcha', 'Old Mill Antiques', 'image',
    `<p><img id="captcha" src="/securimage/securimage_show.php" alt="CAPTCHA Image" width="215" height="80" />
<a href="#" onclick="document.getElementById('captcha').src = '/securimage/securimage_show.php?' + Math.random(); return false">[ Different Image ]</a></p>
<p><label for="captcha_code">Type the characters you see in the picture above</label><br><input type="text" id="captcha_code" name="captcha_code" size="10" maxlength="6" /></p>`,
    '', [], { captcha_code: '$captcha' }, 'An image CAPTCHA (PHP Securimage: img#captcha and captcha_code).',
    { '/securimage/securimage_show.php': { body: GIF, type: 'image/gif' } }),
];

// ---- robots -------------------------------------------------------------------------------------
const robotsDisallow = () => plainSite({
  name: 'robots-disallow', brand: 'Marigold Catering', contact: '/contact', action: '/contact', fields: std(),
  required: ['name', 'email', 'message'], emails: ['email'],
  robots: 'User-agent: *\nDisallow: /contact\nDisallow: /admin/\n',
  thanks: { html: '<h1>Thank you!</h1><p>Your message was sent.</p>' },
  notes: 'robots.txt disallows /contact for every agent: the worker may read / but must not fetch /contact (check /admin/requests).',
  expect: { outcome: 'skipped', reason: 'robots', posts: 0, fields: {} },
});
const robotsDelay = () => plainSite({
  name: 'robots-crawl-delay', brand: 'Pebble Beach Surf School', contact: '/contact', action: '/contact', fields: std(),
  required: ['name', 'email', 'message'], emails: ['email'],
  robots: 'User-agent: *\nCrawl-delay: 1\nDisallow: /private/\n',
  thanks: { html: '<h1>Thanks!</h1><p>Your message was sent. See you on the water.</p>' },
  notes: 'robots.txt allows the contact page with Crawl-delay: 1: the requests to this origin must be at least 1 s apart (check /admin/requests).',
  expect: { outcome: 'submitted', posts: 1, confirm: 'Your message was sent.', crawl_delay_ms: 1000, form: post('/contact'), fields: stdExpect },
});

const robots5xx = () => plainSite({
  name: 'robots-5xx', brand: 'Foxglove Pottery', contact: '/contact', action: '/contact', fields: std(),
  required: ['name', 'email', 'message'], emails: ['email'], robots: 'Service Unavailable', robotsStatus: 503,
  thanks: { html: '<h1>Thank you!</h1><p>Your message was sent.</p>' },
  notes: 'robots.txt answers 503: RFC 9309 reads that as everything disallowed, so nothing but /robots.txt may be fetched.',
  expect: { outcome: 'skipped', reason: 'robots', posts: 0, fields: {} },
});
const robotsAgent = () => plainSite({
  name: 'robots-agent-group', brand: 'Hollowell Tea Merchants', contact: '/contact', action: '/contact', fields: std(),
  required: ['name', 'email', 'message'], emails: ['email'],
  robots: '# Everyone is welcome but the sales bots\nUser-agent: *\nAllow: /\n\nUser-agent: ProspectAI\nUser-agent: prospect-ai\nDisallow: /contact\nDisallow: /shop/\n',
  thanks: { html: '<h1>Thank you!</h1><p>Your message was sent.</p>' },
  notes: 'robots.txt allows every agent but has a group for the product tokens "ProspectAI" and "prospect-ai" (the worker\'s User-Agent must carry one of them) disallowing /contact: the named group applies, not "*".',
  expect: { outcome: 'skipped', reason: 'robots', posts: 0, fields: {} },
});

// ---- opt-out notices and no form -------------------------------------------------------------------
const optOut = (name, brand, lang, navText, contact, notice, fields, expectOpt, notes) => plainSite({
  name, brand, lang, contact, action: contact, nav: [['/', lang === 'ja' ? 'ホーム' : 'Home'], [contact, navText]],
  heading: navText, intro: notice, fields, required: [], thanks: { html: '<p>OK</p>' },
  notes, expect: { outcome: 'skipped', reason: 'site_opt_out', opt_out: expectOpt, posts: 0, fields: {} },
});
const optOuts = () => [
  optOut('optout-en', 'Greenway Landscaping', 'en', 'Contact', '/contact',
    '<p class="notice"><strong>No solicitations, please.</strong> We do not respond to sales, SEO or marketing offers sent through this form.</p>',
    std(), 'No solicitations', 'An English opt-out notice just above the contact form.'),
  optOut('optout-de', 'Bäckerei Sonnenschein', 'de', 'Kontakt', '/kontakt',
    '<p class="hinweis"><strong>Bitte keine Werbung!</strong> Anfragen von Agenturen, Vertrieblern und Dienstleistern werden nicht beantwortet.</p>',
    [['text', 'name', 'Name', { required: true }], ['email', 'email', 'E-Mail', { required: true }], ['textarea', 'nachricht', 'Nachricht', { required: true }], ['submit', null, 'Absenden']],
    'keine Werbung', 'A German opt-out notice ("Bitte keine Werbung!") above the form.'),
  optOut('optout-ja', '山田工務店', 'ja', 'お問い合わせ', '/contact/',
    '<p class="notice">【営業お断り】営業・勧誘を目的としたお問い合わせはご遠慮ください。</p>',
    [['text', 'name', 'お名前', { required: true }], ['email', 'email', 'メールアドレス', { required: true }], ['textarea', 'body', 'お問い合わせ内容', { required: true }], ['submit', null, '送信する']],
    '営業お断り', 'A Japanese opt-out notice (営業お断り) above the form.'),
];
const noForm = () => plainSite({
  name: 'no-form', brand: 'Quiet Pine Studio', contact: '/contact', noForm: true, fields: [],
  pages: { '/contact': page({ title: 'Contact — Quiet Pine Studio', brand: 'Quiet Pine Studio', nav: [['/', 'Home'], ['/contact', 'Contact']],
    body: `<article><h1>Contact</h1><p>We prefer e-mail: <a href="mailto:hello@quietpine.example">hello@quietpine.example</a></p>
<p>Or call us on weekdays: <a href="tel:+4930123456">+49 30 123456</a></p>
<address>Quiet Pine Studio<br>Kastanienallee 12<br>10435 Berlin</address></article>` }) },
  notes: 'The contact page has an e-mail address and a phone number but no form.',
  expect: { outcome: 'skipped', reason: 'no_form', posts: 0, fields: {},
            contacts: { emails: ['hello@quietpine.example'], phones: ['+49 30 123456'] } },
});

// ---- languages and charsets ------------------------------------------------------------------------
const germanLatin1 = () => plainSite({
  name: 'german-latin1', builder: 'php', brand: 'Müller &amp; Söhne Holzbau', lang: 'de', charset: 'iso-8859-1',
  meta: false, head: '<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1">',
  contentType: 'text/html; charset=ISO-8859-1', contact: '/kontakt.html', action: '/kontakt.php', actionAttr: 'kontakt.php',
  nav: [['/', 'Startseite'], ['/leistungen.html', 'Leistungen'], ['/kontakt.html', 'Kontakt']], heading: 'Kontakt',
  home: '<article><h1>Holzbau seit 1952</h1><p>Dachstühle, Carports und Wintergärten aus heimischem Holz – geplant und gebaut in Süddeutschland.</p></article>',
  intro: '<p>Schreiben Sie uns – wir antworten schnell.</p>',
  fields: [
    ['text', 'name', 'Ihr Name', { required: true }], ['email', 'email', 'Ihre E-Mail-Adresse', { required: true }],
    ['text', 'firma', 'Firma'], ['tel', 'telefon', 'Telefon'], ['text', 'betreff', 'Betreff', { required: true }],
    ['textarea', 'nachricht', 'Ihre Nachricht', { required: true }],
    ['checkbox', 'datenschutz', 'Ich habe die Datenschutzerklärung gelesen und bin mit der Verarbeitung meiner Daten einverstanden.', { required: true, value: 'ja' }],
    ['submit', 'senden', 'Absenden', { value: 'Absenden' }],
  ],
  required: ['name', 'email', 'betreff', 'nachricht', 'datenschutz'], emails: ['email'], equals: { datenschutz: 'ja' },
  thanks: { path: '/danke.html', status: 303, title: 'Danke', html: '<h1>Vielen Dank für Ihre Nachricht!</h1><p>Wir melden uns in Kürze bei Ihnen.</p>' },
  notes: 'ISO-8859-1 (HTTP header and meta http-equiv), German labels, a "Kontakt" link, a required privacy checkbox (value "ja"), a named submit; 303 to /danke.html. Posted values are read as UTF-8 when valid, else ISO-8859-1.',
  expect: { outcome: 'submitted', posts: 1, confirm: 'Vielen Dank für Ihre Nachricht!', form: post('/kontakt.php'),
            fields: { name: '$sender.name', email: '$sender.email', firma: '$sender.company', telefon: '$sender.phone',
                      betreff: '$subject', nachricht: '$message', datenschutz: 'ja', senden: 'Absenden' } },
});
const win1252 = () => plainSite({
  name: 'win1252-quotes', brand: 'O’Connell & Daughters Tailoring', charset: 'windows-1252', meta: false,
  head: '<meta http-equiv="Content-Type" content="text/html; charset=windows-1252">', contentType: 'text/html',
  contact: '/contact.htm', action: '/contact.htm', nav: [['/', 'Home'], ['/contact.htm', 'Contact us']],
  home: '<article><h1>“Made to measure” since 1961</h1><p>Suits, coats – and the odd kilt — cut by hand in Cork.</p></article>',
  intro: '<p>We’d love to hear from you. Here’s our form:</p>',
  fields: [
    ['text', 'your_name', '“Your name”', { required: true }], ['email', 'your_email', '“E-mail address”', { required: true }],
    ['textarea', 'comments', 'What’s on your mind?', { required: true }], ['submit', null, 'Send it »'],
  ],
  required: ['your_name', 'your_email', 'comments'], emails: ['your_email'],
  thanks: { html: '<h1>Thank you — we’ll reply within two working days.</h1>' },
  notes: 'Windows-1252: the charset only in <meta http-equiv> (the header says text/html without one); curly quotes, dashes and » in labels and text.',
  expect: { outcome: 'submitted', posts: 1, confirm: 'Thank you — we’ll reply', form: post('/contact.htm'),
            fields: { your_name: '$sender.name', your_email: '$sender.email', comments: '$message' } },
});
const shiftJis = () => plainSite({
  name: 'shiftjis-ja', builder: 'php', brand: '株式会社さくら精機', lang: 'ja', charset: 'Shift_JIS', meta: false,
  head: '<meta http-equiv="Content-Type" content="text/html; charset=Shift_JIS">', contentType: 'text/html; charset=Shift_JIS',
  contact: '/inquiry/', action: '/inquiry/send.php', nav: [['/', 'ホーム'], ['/company/', '会社概要'], ['/inquiry/', 'お問い合わせ']],
  heading: 'お問い合わせ', home: '<article><h1>精密部品の加工なら、さくら精機へ</h1><p>創業五十年の技術で、試作から量産まで対応いたします。</p></article>',
  intro: '<p>下記フォームに必要事項をご入力のうえ、送信してください。</p>',
  fields: [
    ['text', 'name', 'お名前', { required: true }], ['text', 'company', '会社名'], ['email', 'email', 'メールアドレス', { required: true }],
    ['tel', 'tel', '電話番号'], ['textarea', 'body', 'お問い合わせ内容', { required: true }], ['submit', null, '送信する'],
  ],
  required: ['name', 'email', 'body'], emails: ['email'],
  thanks: { path: '/inquiry/thanks.html', status: 303, title: '送信完了', html: '<h1>お問い合わせありがとうございました。</h1><p>担当者より折り返しご連絡いたします。</p>' },
  notes: 'Shift_JIS (header and meta), Japanese labels, the お問い合わせ link; 303 to a thank-you page in Japanese.',
  expect: { outcome: 'submitted', posts: 1, confirm: 'お問い合わせありがとうございました', form: post('/inquiry/send.php'),
            fields: { name: '$sender.name', company: '$sender.company', email: '$sender.email', tel: '$sender.phone', body: '$message' } },
});
const french = () => plainSite({
  name: 'french-merci', brand: 'Atelier Lumière', lang: 'fr', contact: '/nous-contacter', action: '/nous-contacter',
  nav: [['/', 'Accueil'], ['/realisations', 'Réalisations'], ['/nous-contacter', 'Nous contacter']], heading: 'Nous contacter',
  home: '<article><h1>Luminaires sur mesure</h1><p>Créations artisanales à Lyon.</p></article>',
  fields: [
    ['text', 'nom', 'Nom', { required: true }], ['text', 'prenom', 'Prénom', { required: true }],
    ['email', 'email', 'Adresse e-mail', { required: true }], ['text', 'societe', 'Société'],
    ['textarea', 'message', 'Votre message', { required: true }], ['submit', null, 'Envoyer'],
  ],
  required: ['nom', 'prenom', 'email', 'message'], emails: ['email'],
  thanks: { title: 'Atelier Lumière', html: '<h1>Merci !</h1><p>Votre message a bien été envoyé.</p>' },
  notes: 'French labels, a "Nous contacter" link; the answer is a 200 at the same address whose only news is "Merci ! Votre message a bien été envoyé."',
  expect: { outcome: 'submitted', posts: 1, confirm: 'Merci', form: post('/nous-contacter'),
            fields: { nom: '$sender.last_name', prenom: '$sender.first_name', email: '$sender.email', societe: '$sender.company', message: '$message' } },
});
const spanish = () => plainSite({
  name: 'spanish-contacto', brand: 'Olivar del Sur', lang: 'es', contact: '/contacto', action: '/contacto',
  nav: [['/', 'Inicio'], ['/productos', 'Productos'], ['/contacto', 'Contacto']], heading: 'Contacto',
  fields: [
    ['text', 'nombre', 'Nombre completo', { required: true }], ['email', 'correo', 'Correo electrónico', { required: true }],
    ['tel', 'telefono', 'Teléfono'],
    ['select', 'asunto', 'Asunto', { required: true, options: [['', 'Seleccione una opción'], ['soporte', 'Soporte técnico'], ['comercial', 'Consulta comercial'], ['facturacion', 'Facturación'], ['empleo', 'Trabaja con nosotros']] }],
    ['textarea', 'mensaje', 'Mensaje', { required: true }], ['submit', null, 'Enviar'],
  ],
  required: ['nombre', 'correo', 'asunto', 'mensaje'], emails: ['correo'], equals: { asunto: 'comercial' },
  thanks: { path: '/gracias', status: 302, title: 'Gracias', html: '<h1>¡Gracias!</h1><p>Hemos recibido su mensaje y le responderemos pronto.</p>' },
  notes: 'Spanish, a "Contacto" link, a required "Asunto" select whose sales option is "Consulta comercial" (value comercial); 302 to /gracias.',
  expect: { outcome: 'submitted', posts: 1, confirm: '¡Gracias!', form: post('/contacto'),
            fields: { nombre: '$sender.name', correo: '$sender.email', telefono: '$sender.phone', asunto: 'comercial', mensaje: '$message' } },
});
const italian = () => plainSite({
  name: 'italian-contatti', brand: 'Vetreria Murano Nord', lang: 'it', contact: '/contatti', action: '/contatti',
  nav: [['/', 'Home'], ['/collezioni', 'Collezioni'], ['/contatti', 'Contatti']], heading: 'Contatti',
  fields: [
    ['text', 'nome', 'Nome', { required: true }], ['text', 'cognome', 'Cognome', { required: true }],
    ['email', 'email', 'Email', { required: true }], ['text', 'azienda', 'Azienda'],
    ['textarea', 'messaggio', 'Messaggio', { required: true }],
    ['checkbox', 'privacy', 'Acconsento al trattamento dei dati personali ai sensi del GDPR (Reg. UE 2016/679)', { required: true, value: '1' }],
    ['submit', null, 'Invia'],
  ],
  required: ['nome', 'cognome', 'email', 'messaggio', 'privacy'], emails: ['email'], equals: { privacy: '1' },
  thanks: { html: '<h1>Grazie!</h1><p>Il tuo messaggio è stato inviato correttamente.</p>' },
  notes: 'Italian, a "Contatti" link, a required GDPR consent checkbox (value 1); the thank-you text replaces the form.',
  expect: { outcome: 'submitted', posts: 1, confirm: 'Grazie!', form: post('/contatti'),
            fields: { nome: '$sender.first_name', cognome: '$sender.last_name', email: '$sender.email', azienda: '$sender.company',
                      messaggio: '$message', privacy: '1' } },
});
const dutch = () => plainSite({
  name: 'dutch-contact', brand: 'Fietsenmakerij De Spaak', lang: 'nl', contact: '/neem-contact-op', action: '/neem-contact-op',
  nav: [['/', 'Home'], ['/reparaties', 'Reparaties'], ['/neem-contact-op', 'Neem contact op']], heading: 'Neem contact op',
  fields: [
    ['text', 'naam', 'Naam', { required: true }], ['email', 'email', 'E-mailadres', { required: true }],
    ['tel', 'telefoon', 'Telefoonnummer'], ['textarea', 'bericht', 'Uw bericht', { required: true }], ['submit', null, 'Versturen'],
  ],
  required: ['naam', 'email', 'bericht'], emails: ['email'],
  thanks: { path: '/bedankt', status: 303, title: 'Bedankt', html: '<h1>Bedankt voor uw bericht!</h1><p>We nemen zo snel mogelijk contact met u op.</p>' },
  notes: 'Dutch, a "Neem contact op" link; 303 to /bedankt.',
  expect: { outcome: 'submitted', posts: 1, confirm: 'Bedankt voor uw bericht!', form: post('/neem-contact-op'),
            fields: { naam: '$sender.name', email: '$sender.email', telefoon: '$sender.phone', bericht: '$message' } },
});

// ---- finding the contact page ----------------------------------------------------------------------
const commonPath = () => plainSite({
  name: 'common-path', brand: 'Harrow &amp; Finch Bookkeeping', contact: '/contact', action: '/contact',
  nav: [['/', 'Home'], ['/services', 'Services'], ['/about', 'About']],
  home: '<article><h1>Bookkeeping for sole traders</h1><p>Fixed monthly fees, no surprises.</p></article>',
  fields: std(), required: ['name', 'email', 'message'], emails: ['email'],
  thanks: { html: '<h1>Thanks, your message was sent.</h1>' },
  notes: 'No page links to a contact page: it is found only by trying the common path /contact (/contact-us, /kontakt... answer 404).',
  expect: { outcome: 'submitted', posts: 1, confirm: 'your message was sent', form: post('/contact'), fields: stdExpect },
});
const redirectChain = () => plainSite({
  name: 'redirect-chain', brand: 'Bluebell Veterinary', contact: '/company/contact/', action: '/company/contact/send',
  nav: [['/', 'Home'], ['/pets', 'Pet care'], ['/contact-us', 'Contact us']],
  redirects: { '/contact-us': [301, '/about/contact'], '/about/contact': [301, '/company/contact/'] },
  fields: [...std().slice(0, 2), ['tel', 'phone', 'Phone'], ...std().slice(2)],
  required: ['name', 'email', 'message'], emails: ['email'],
  thanks: { path: '/company/contact/thanks', status: 303, title: 'Thank you', html: '<h1>Thank you, your message has been received.</h1>' },
  notes: 'The nav\'s /contact-us answers 301 to /about/contact, which answers 301 to /company/contact/ (the form); the form posts elsewhere and answers 303 to a thank-you page.',
  expect: { outcome: 'submitted', posts: 1, confirm: 'your message has been received', form: post('/company/contact/send'),
            fields: { name: '$sender.name', email: '$sender.email', phone: '$sender.phone', message: '$message' } },
});

// ---- validation ---------------------------------------------------------------------------------
const unfillable = () => plainSite({
  name: 'unfillable-vat', brand: 'Kronos Wholesale', contact: '/contact', action: '/contact',
  intro: '<p>Trade accounts only. Please quote your VAT number with every enquiry.</p>',
  fields: [
    ['text', 'company', 'Company', { required: true }], ['text', 'name', 'Contact person', { required: true }],
    ['email', 'email', 'Email', { required: true }], ['text', 'vat_number', 'VAT number', { required: true, placeholder: 'GB123456789' }],
    ['textarea', 'message', 'Enquiry', { required: true }], ['submit', null, 'Send enquiry'],
  ],
  required: ['company', 'name', 'email', 'vat_number', 'message'], emails: ['email'],
  thanks: { html: '<h1>Thank you for your enquiry.</h1>' },
  notes: 'A required "VAT number" the sender does not have: failed unfillable_field naming it, and nothing posted.',
  expect: { outcome: 'failed', reason: 'unfillable_field', unfillable: 'vat_number', posts: 0, fields: {} },
});
const alwaysInvalid = () => plainSite({
  name: 'always-invalid', brand: 'Quayside Marine Supplies', contact: '/contact', action: '/contact',
  fields: [...std().slice(0, 2), ['tel', 'phone', 'Phone'], ...std().slice(2)],
  required: ['name', 'email', 'message'], emails: ['email'],
  check: () => ['email: We could not verify this e-mail address. Please check it and try again.'],
  errorTitle: 'Your message was not sent. Please correct the errors below.',
  thanks: { html: '<h1>Thank you!</h1>' },
  notes: 'Answers every post with the form again and a validation error on the e-mail field (200): failed validation_errors, with the one post recorded.',
  expect: { outcome: 'failed', reason: 'validation_errors', posts: 1, form: post('/contact'),
            fields: { name: '$sender.name', email: '$sender.email', phone: '$sender.phone', message: '$message' } },
});

// ---- a honeypot off-screen -------------------------------------------------------------------------
const offscreen = () => plainSite({
  name: 'honeypot-offscreen', brand: 'Cedar &amp; Stone Architects', contact: '/contact', action: '/contact',
  fields: [
    ...std().slice(0, 2), ['url', 'website', 'Your website'],
    ['raw', '<div style="position:absolute;left:-9999px;top:-9999px" aria-hidden="true"><label for="f-fax">Fax</label><input type="text" id="f-fax" name="fax" tabindex="-1" autocomplete="off" value=""></div>'],
    ...std().slice(2),
  ],
  required: ['name', 'email', 'message'], emails: ['email'], honeypots: ['fax'],
  thanks: { path: '/contact/thanks', status: 303, title: 'Thank you', html: '<h1>Thank you!</h1><p>We will be in touch.</p>' },
  notes: 'A trap "fax" field moved off-screen (position:absolute; left:-9999px) with tabindex=-1 beside a real website field.',
  expect: { outcome: 'submitted', posts: 1, confirm: 'Thank you!', form: post('/contact'),
            fields: { name: '$sender.name', email: '$sender.email', website: '$sender.website', fax: '', message: '$message' } },
});

export const MISC_SITES = [
  phpPrg(), upload(), ...captchas(), robotsDisallow(), robotsDelay(), robots5xx(), robotsAgent(), ...optOuts(), noForm(), germanLatin1(),
  win1252(), shiftJis(), french(), spanish(), italian(), dutch(), commonPath(), redirectChain(), unfillable(),
  alwaysInvalid(), offscreen(),
];

// The one plain site --bench copies (robots.txt allows all).
export const benchSite = (name) => plainSite({
  name, brand: 'Bench Co', contact: '/contact', action: '/contact', fields: std(),
  required: ['name', 'email', 'message'], emails: ['email'], robots: 'User-agent: *\nAllow: /\n',
  thanks: { path: '/thanks', status: 303, title: 'Thank you', html: '<h1>Thank you!</h1><p>Your message has been sent.</p>' },
  notes: 'benchmark copy',
  expect: { outcome: 'submitted', posts: 1, confirm: 'Your message has been sent.', form: post('/contact'), fields: stdExpect },
});
