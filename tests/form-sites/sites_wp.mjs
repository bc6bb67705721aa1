// WordPress sites: Contact Form 7 (with the Honeypot for CF7 plugin, reCAPTCHA v3, its quiz),
// WPForms, Gravity Forms, Elementor Pro, Ninja Forms (JavaScript only) and a page with every kind
// of distractor form. The markup follows what each plugin renders (class names, hidden fields,
// honeypots); the answers follow what each does without JavaScript (a post to the page itself).
import { esc, hex, page, rand } from './lib.mjs';

const NAV = [['/', 'Home'], ['/services/', 'Services'], ['/about/', 'About'], ['/contact/', 'Contact']];
const wpHead = (extra = '') => `<link rel="https://api.w.org/" href="/wp-json/">
  <meta name="generator" content="WordPress 6.5.3">
  <link rel="stylesheet" id="theme-css" href="/wp-content/themes/twentytwentyfour/style.css" media="all">${extra}`;
const wpHome = (brand, nav = NAV, footer = [['/privacy-policy/', 'Privacy Policy']], intro = '') => page({
  title: brand, brand, nav, head: wpHead(), footer,
  body: `<article class="page"><h1>Welcome to ${brand}</h1>
<p>${intro || 'We help small companies grow with honest work and plain words.'}</p>
<p>Read about our <a href="/services/">services</a>.</p></article>`,
});
const errTip = (errors, n, text = 'Please fill out this field.') =>
  errors && errors.some((e) => e.startsWith(n + ':')) ? `<span class="wpcf7-not-valid-tip" aria-hidden="true">${text}</span>` : '';

// ---- Contact Form 7 ------------------------------------------------------------------------------
// status: init | sent | invalid | spam | failed
function cf7({ id, post, locale = 'en_US', action, inner, status = 'init', output = '', extraHidden = '' }) {
  const unit = `wpcf7-f${id}-p${post}-o1`;
  return `<div class="wpcf7 no-js" id="${unit}" lang="${locale.replace('_', '-')}" dir="ltr" data-wpcf7-id="${id}">
<div class="screen-reader-response"><p role="status" aria-live="polite" aria-atomic="true">${output}</p> <ul></ul></div>
<form action="${action}#${unit}" method="post" class="wpcf7-form ${status}" aria-label="Contact form" novalidate="novalidate" data-status="${status}">
<div style="display: none;">
<input type="hidden" name="_wpcf7" value="${id}" />
<input type="hidden" name="_wpcf7_version" value="5.9.3" />
<input type="hidden" name="_wpcf7_locale" value="${locale}" />
<input type="hidden" name="_wpcf7_unit_tag" value="${unit}" />
<input type="hidden" name="_wpcf7_container_post" value="${post}" />
<input type="hidden" name="_wpcf7_posted_data_hash" value="" />${extraHidden}
</div>
${inner}
<div class="wpcf7-response-output" aria-hidden="true">${output}</div>
</form>
</div>`;
}
const cf7Hidden = (id, post, locale = 'en_US') => ({
  _wpcf7: String(id), _wpcf7_version: '5.9.3', _wpcf7_locale: locale,
  _wpcf7_unit_tag: `wpcf7-f${id}-p${post}-o1`, _wpcf7_container_post: String(post), _wpcf7_posted_data_hash: '',
});
const cf7Text = (label, name, type, errors, { req = true, auto = '' } = {}) =>
  `<p><label> ${label}<br />
<span class="wpcf7-form-control-wrap" data-name="${name}"><input size="40" maxlength="400" class="wpcf7-form-control wpcf7-${type}${req ? ' wpcf7-validates-as-required' : ''}${type === 'email' ? ' wpcf7-validates-as-email' : ''}"${auto ? ` autocomplete="${auto}"` : ''} aria-required="${req}" aria-invalid="${errTip(errors, name) ? 'true' : 'false'}" value="" type="${type}" name="${name}" />${errTip(errors, name)}</span> </label></p>`;
const cf7Area = (label, name, errors) => `<p><label> ${label}<br />
<span class="wpcf7-form-control-wrap" data-name="${name}"><textarea cols="40" rows="10" maxlength="2000" class="wpcf7-form-control wpcf7-textarea wpcf7-validates-as-required" aria-required="true" aria-invalid="false" name="${name}"></textarea>${errTip(errors, name)}</span> </label></p>`;
const CF7_SENT = 'Thank you for your message. It has been sent.';
const CF7_INVALID = 'One or more fields have an error. Please check and try again.';
const CF7_SPAM = 'There was an error trying to send your message. Please try again later.';

function cf7Studio() {
  const hp = `<span id="wpcf7-6620a3b1c9d2e-wrapper" class="wpcf7-form-control-wrap your-website-wrap" style="display:none !important; visibility:hidden !important;"><label for="wpcf7-6620a3b1c9d2e-field" class="hp-message">Please leave this field empty.</label><input id="wpcf7-6620a3b1c9d2e-field" class="wpcf7-form-control wpcf7-text" type="text" name="your-website" value="" size="40" tabindex="-1" autocomplete="new-password" /></span>`;
  const contact = (errors, status, output) => page({
    title: 'Contact &#8211; Northlight Studio', brand: 'Northlight Studio', nav: NAV, head: wpHead(),
    body: `<article class="page"><h1 class="entry-title">Contact</h1>
<p>Tell us about your project and we will answer within two working days.</p>
${cf7({ id: 212, post: 41, action: '/contact/', status, output, inner: `${cf7Text('Your name', 'your-name', 'text', errors, { auto: 'name' })}
${cf7Text('Your email', 'your-email', 'email', errors, { auto: 'email' })}
${cf7Text('Subject', 'your-subject', 'text', errors)}
${cf7Area('Your message (optional)', 'your-message', errors)}
${hp}
<p><input class="wpcf7-form-control wpcf7-submit has-spinner" type="submit" value="Submit" /></p>` })}
</article>`,
  });
  return {
    name: 'cf7-studio', builder: 'contact-form-7', contact: '/contact/',
    notes: 'Contact Form 7 with the Honeypot for CF7 plugin: the trap is named "your-website", hidden by an inline style, tabindex=-1, autocomplete=new-password. Without JavaScript CF7 re-renders the page with the form (class "sent") and "Thank you for your message. It has been sent." beside it.',
    robots: 'User-agent: *\nDisallow: /wp-admin/\nAllow: /wp-admin/admin-ajax.php\n\nSitemap: /wp-sitemap.xml\n',
    pages: { '/': wpHome('Northlight Studio'), '/contact/': () => contact(null, 'init', '') },
    form: {
      action: '/contact/', required: ['your-name', 'your-email', 'your-subject'], emails: ['your-email'],
      honeypots: ['your-website'],
      success: () => contact(null, 'sent', CF7_SENT),
      failure: (ctx, f, errors, reason) => contact(errors, reason === 'honeypot' ? 'spam' : 'invalid', reason === 'honeypot' ? CF7_SPAM : CF7_INVALID),
    },
    expect: {
      outcome: 'submitted', posts: 1, confirm: CF7_SENT,
      form: { method: 'POST', action: '/contact/', enctype: 'application/x-www-form-urlencoded' },
      fields: { ...cf7Hidden(212, 41), 'your-name': '$sender.name', 'your-email': '$sender.email',
                'your-subject': '$subject', 'your-message': '$message', 'your-website': '' },
    },
  };
}

// ---- WPForms --------------------------------------------------------------------------------------
function wpforms() {
  const FID = 214;
  const CONSENT = 'I consent to having this website store my submitted information so they can respond to my inquiry.';
  const f = (n) => `wpforms[fields][${n}]`;
  const err = (errors, n) => errors && errors.some((e) => e.startsWith(n + ':'))
    ? `<em id="wpforms-${FID}-field_${n.replace(/\D+/g, '')}-error" class="wpforms-error" role="alert">This field is required.</em>` : '';
  const form = (ctx, errors) => `<div class="wpforms-container wpforms-container-full" id="wpforms-${FID}"><form id="wpforms-form-${FID}" class="wpforms-validate wpforms-form" data-formid="${FID}" method="post" enctype="multipart/form-data" action="/company/get-in-touch/" data-token="${hex(32)}">
<noscript class="wpforms-error-noscript">Please enable JavaScript in your browser to complete this form.</noscript>
${errors ? '<div class="wpforms-error-container" role="alert"><p>Form has not been submitted, please see the errors below.</p></div>' : ''}
<div class="wpforms-field-container">
<div id="wpforms-${FID}-field_0-container" class="wpforms-field wpforms-field-name" data-field-id="0"><fieldset><legend class="wpforms-field-label">Name <span class="wpforms-required-label" aria-hidden="true">*</span></legend><div class="wpforms-field-row wpforms-field-medium"><div class="wpforms-field-row-block wpforms-first wpforms-one-half"><input type="text" id="wpforms-${FID}-field_0" class="wpforms-field-name-first wpforms-field-required" name="${f(0)}[first]" aria-errormessage="wpforms-${FID}-field_0-error" required><label for="wpforms-${FID}-field_0" class="wpforms-field-sublabel after">First</label></div><div class="wpforms-field-row-block wpforms-one-half"><input type="text" id="wpforms-${FID}-field_0-last" class="wpforms-field-name-last wpforms-field-required" name="${f(0)}[last]" required><label for="wpforms-${FID}-field_0-last" class="wpforms-field-sublabel after">Last</label></div></div>${err(errors, f(0) + '[first]')}</fieldset></div>
<div id="wpforms-${FID}-field_1-container" class="wpforms-field wpforms-field-email" data-field-id="1"><label class="wpforms-field-label" for="wpforms-${FID}-field_1">Email <span class="wpforms-required-label" aria-hidden="true">*</span></label><input type="email" id="wpforms-${FID}-field_1" class="wpforms-field-medium wpforms-field-required" name="${f(1)}" spellcheck="false" required>${err(errors, f(1))}</div>
<div id="wpforms-${FID}-field_3-container" class="wpforms-field wpforms-field-phone" data-field-id="3"><label class="wpforms-field-label" for="wpforms-${FID}-field_3">Phone</label><input type="tel" id="wpforms-${FID}-field_3" class="wpforms-field-medium wpforms-smart-phone-field" data-rule-smart-phone-field="true" name="${f(3)}" aria-label="Phone"></div>
<div id="wpforms-${FID}-field_2-container" class="wpforms-field wpforms-field-textarea" data-field-id="2"><label class="wpforms-field-label" for="wpforms-${FID}-field_2">Comment or Message <span class="wpforms-required-label" aria-hidden="true">*</span></label><textarea id="wpforms-${FID}-field_2" class="wpforms-field-medium wpforms-field-required" name="${f(2)}" required></textarea>${err(errors, f(2))}</div>
<div id="wpforms-${FID}-field_4-container" class="wpforms-field wpforms-field-gdpr-checkbox" data-field-id="4"><label class="wpforms-field-label" for="wpforms-${FID}-field_4">GDPR Agreement <span class="wpforms-required-label" aria-hidden="true">*</span></label><ul id="wpforms-${FID}-field_4" class="wpforms-field-required"><li class="choice-1"><input type="checkbox" id="wpforms-${FID}-field_4_1" name="${f(4)}[]" value="${esc(CONSENT)}" aria-errormessage="wpforms-${FID}-field_4_1-error" required><label class="wpforms-field-label-inline" for="wpforms-${FID}-field_4_1">${esc(CONSENT)}</label></li></ul>${err(errors, f(4) + '[]')}</div>
</div><!-- .wpforms-field-container -->
<div class="wpforms-field wpforms-field-hp"><label for="wpforms-${FID}-field-hp" class="wpforms-field-label">Email</label><input type="text" name="wpforms[hp]" id="wpforms-${FID}-field-hp" class="wpforms-field-medium"></div>
<div class="wpforms-submit-container"><input type="hidden" name="wpforms[id]" value="${FID}"><input type="hidden" name="page_title" value="Get in touch"><input type="hidden" name="page_url" value="/company/get-in-touch/"><input type="hidden" name="url_referer" value=""><input type="hidden" name="page_id" value="88"><input type="hidden" name="wpforms[post_id]" value="88"><input type="hidden" name="wpforms[token]" value="${ctx.issue(() => hex(32))}"><button type="submit" name="wpforms[submit]" id="wpforms-submit-${FID}" class="wpforms-submit" data-alt-text="Sending..." data-submit-text="Send Message" aria-live="assertive" value="wpforms-submit">Send Message</button></div>
</form></div><!-- .wpforms-container -->`;
  const style = `<style id="wpforms-full-inline-css">div.wpforms-container-full .wpforms-form .wpforms-field-hp{display:none!important;position:absolute!important;left:-9000px!important}</style>`;
  const NAVW = [['/', 'Home'], ['/work/', 'Our work'], ['/team/', 'Team']];
  const FOOT = `<div class="footer-widgets"><h3>Harbour Consulting</h3><p>12 Quay Street, Bristol</p>
<ul><li><a href="/privacy/">Privacy</a></li><li><a href="/company/get-in-touch/">Contact us</a></li></ul></div>`;
  const contact = (ctx, errors, done) => page({
    title: 'Get in touch | Harbour Consulting', brand: 'Harbour Consulting', nav: NAVW, footer: FOOT, head: wpHead(style),
    body: `<article class="page"><h1>Get in touch</h1>
${done ? `<div class="wpforms-confirmation-container-full wpforms-container-full" id="wpforms-confirmation-${FID}" role="alert"><p>Thanks for contacting us! We will be in touch with you shortly.</p></div>` : form(ctx, errors)}
</article>`,
  });
  return {
    name: 'wpforms-consult', builder: 'wpforms', contact: '/company/get-in-touch/',
    notes: 'WPForms (multipart): first/last name sub-fields, a required GDPR checkbox whose value is its long text, the wpforms[hp] honeypot (hidden by the plugin\'s stylesheet class .wpforms-field-hp, labelled "Email"), a named submit button, a server token in wpforms[token]. The contact link is only in the footer ("Contact us"). The form is replaced by the confirmation.',
    robots: null,
    pages: {
      '/': page({ title: 'Harbour Consulting', brand: 'Harbour Consulting', nav: NAVW, footer: FOOT, head: wpHead(),
                  body: '<article><h1>Strategy for harbours and ports</h1><p>Twenty years of advice to port operators.</p></article>' }),
      '/company/get-in-touch/': (ctx) => contact(ctx, null, false),
    },
    form: {
      action: '/company/get-in-touch/', tokens: ['wpforms[token]'], honeypots: ['wpforms[hp]'],
      required: [f(0) + '[first]', f(0) + '[last]', f(1), f(2), f(4) + '[]'], emails: [f(1)],
      equals: { [f(4) + '[]']: CONSENT, 'wpforms[id]': String(FID) },
      success: (ctx) => contact(ctx, null, true),
      failure: (ctx, fl, errors) => contact(ctx, errors, false),
    },
    expect: {
      outcome: 'submitted', posts: 1, confirm: 'Thanks for contacting us!',
      form: { method: 'POST', action: '/company/get-in-touch/', enctype: 'multipart/form-data' },
      fields: { [f(0) + '[first]']: '$sender.first_name', [f(0) + '[last]']: '$sender.last_name',
                [f(1)]: '$sender.email', [f(3)]: '$sender.phone', [f(2)]: '$message', [f(4) + '[]']: CONSENT,
                'wpforms[hp]': '', 'wpforms[id]': String(FID), page_title: 'Get in touch',
                page_url: '/company/get-in-touch/', url_referer: '', page_id: '88', 'wpforms[post_id]': '88',
                'wpforms[token]': '$any', 'wpforms[submit]': 'wpforms-submit' },
    },
  };
}

// ---- Gravity Forms --------------------------------------------------------------------------------
function gravity() {
  const TYPES = ['Existing customer support', 'Billing question', 'New business / Sales', 'Press & media', 'Careers'];
  const req = '<span class="gfield_required"><span class="gfield_required gfield_required_text">(Required)</span></span>';
  const vmsg = (errors, n, id) => errors && errors.some((e) => e.startsWith(n + ':'))
    ? `<div id="validation_message_1_${id}" class="gfield_description validation_message gfield_validation_message">This field is required.</div>` : '';
  const cls = (errors, n) => (errors && errors.some((e) => e.startsWith(n + ':')) ? ' gfield_error' : '');
  const simple = (id, label, type, errors, required, auto) => `<div id="field_1_${id}" class="gfield gfield--type-${type}${required ? ' gfield_contains_required' : ''} field_sublabel_below gfield--no-description field_description_below field_validation_below gfield_visibility_visible${cls(errors, 'input_' + id)}"><label class='gfield_label gform-field-label' for='input_1_${id}'>${label}${required ? req : ''}</label><div class='ginput_container ginput_container_${type}'><input name='input_${id}' id='input_1_${id}' type='${type === 'phone' ? 'tel' : type}' value='' class='large'${required ? " aria-required='true'" : ''} aria-invalid="false"${auto ? ` autocomplete="${auto}"` : ''} /></div>${vmsg(errors, 'input_' + id, id)}</div>`;
  const form = (ctx, errors) => `<div class='gf_browser_chrome gform_wrapper gravity-theme gform-theme--no-framework${errors ? ' gform_validation_error' : ''}' data-form-theme='gravity-theme' data-form-index='0' id='gform_wrapper_1'>
<div class='gform_heading'><h2 class="gform_title">Talk to us</h2><p class='gform_required_legend'>&quot;<span class="gfield_required gfield_required_asterisk">*</span>&quot; indicates required fields</p></div>
<form method='post' enctype='multipart/form-data' id='gform_1' action='/contact-us/' data-formid='1' novalidate>
${errors ? '<div class="gform_validation_errors" id="gform_1_validation_container" data-js="gform-focus-validation-error"><h2 class="gform_submission_error"><span class="gform-icon gform-icon--circle-error"></span>There was a problem with your submission. Please review the fields below.</h2></div>' : ''}
<div class='gform-body gform_body'><div id='gform_fields_1' class='gform_fields top_label form_sublabel_below description_below validation_below'>
<fieldset id="field_1_1" class="gfield gfield--type-name gfield_contains_required field_sublabel_below gfield--no-description field_description_below field_validation_below gfield_visibility_visible${cls(errors, 'input_1.3')}"><legend class='gfield_label gform-field-label gfield_label_before_complex'>Name${req}</legend><div class='ginput_complex ginput_container ginput_container--name no_prefix has_first_name no_middle_name has_last_name no_suffix gf_name_has_2 ginput_container_name gform-grid-row' id='input_1_1'>
<span id='input_1_1_3_container' class='name_first gform-grid-col gform-grid-col--size-auto'><input type='text' name='input_1.3' id='input_1_1_3' value='' aria-required='true' autocomplete="given-name" /><label for='input_1_1_3' class='gform-field-label gform-field-label--type-sub'>First</label></span>
<span id='input_1_1_6_container' class='name_last gform-grid-col gform-grid-col--size-auto'><input type='text' name='input_1.6' id='input_1_1_6' value='' aria-required='true' autocomplete="family-name" /><label for='input_1_1_6' class='gform-field-label gform-field-label--type-sub'>Last</label></span>
</div>${vmsg(errors, 'input_1.3', 1)}</fieldset>
${simple(2, 'Email', 'email', errors, true, 'email')}
${simple(3, 'Company', 'text', errors, false, 'organization')}
${simple(4, 'Phone', 'phone', errors, false, 'tel')}
<div id="field_1_5" class="gfield gfield--type-select gfield_contains_required field_sublabel_below gfield--no-description field_description_below field_validation_below gfield_visibility_visible${cls(errors, 'input_5')}"><label class='gfield_label gform-field-label' for='input_1_5'>Inquiry type${req}</label><div class='ginput_container ginput_container_select'><select name='input_5' id='input_1_5' class='large gfield_select' aria-required="true" aria-invalid="false"><option value='' selected='selected' class='gf_placeholder'>Please choose</option>${TYPES.map((t) => `<option value='${esc(t)}'>${esc(t)}</option>`).join('')}</select></div>${vmsg(errors, 'input_5', 5)}</div>
<div id="field_1_6" class="gfield gfield--type-textarea gfield_contains_required field_sublabel_below gfield--no-description field_description_below field_validation_below gfield_visibility_visible${cls(errors, 'input_6')}"><label class='gfield_label gform-field-label' for='input_1_6'>How can we help?${req}</label><div class='ginput_container ginput_container_textarea'><textarea name='input_6' id='input_1_6' class='textarea large' aria-required="true" aria-invalid="false" rows='10' cols='50'></textarea></div>${vmsg(errors, 'input_6', 6)}</div>
<div id="field_1_99" class="gfield gfield--type-honeypot gform_validation_container field_sublabel_below gfield--has-description field_description_below field_validation_below gfield_visibility_visible"><label class='gfield_label gform-field-label' for='input_1_99'>Phone</label><div class='ginput_container'><input name='input_99' id='input_1_99' type='text' value='' autocomplete='new-password'/></div><div class='gfield_description' id='gfield_description_1_99'>This field is for validation purposes and should be left unchanged.</div></div>
</div></div>
<div class='gform_footer top_label'> <input type='submit' id='gform_submit_button_1' class='gform_button button' value='Submit' onclick='if(window["gf_submitting_1"]){return false;} window["gf_submitting_1"]=true;' />
<input type='hidden' class='gform_hidden' name='is_submit_1' value='1' />
<input type='hidden' class='gform_hidden' name='gform_submit' value='1' />
<input type='hidden' class='gform_hidden' name='gform_unique_id' value='' />
<input type='hidden' class='gform_hidden' name='state_1' value='${ctx.issue(() => Buffer.from(JSON.stringify(['[]', hex(32)])).toString('base64'))}' />
<input type='hidden' class='gform_hidden' name='gform_target_page_number_1' id='gform_target_page_number_1' value='0' />
<input type='hidden' class='gform_hidden' name='gform_source_page_number_1' id='gform_source_page_number_1' value='1' />
<input type='hidden' name='gform_field_values' value='' />
</div>
</form>
</div>`;
  const style = `<style id="gform_basic-inline-css">.gform_wrapper.gravity-theme .gform_validation_container,body .gform_wrapper.gravity-theme .gform_body .gform_fields .gfield.gform_validation_container{display:none!important;left:-9000px;position:absolute!important}</style>`;
  const NAVG = [['/', 'Home'], ['/solutions/', 'Solutions'], ['/contact-us/', 'Contact us']];
  const contact = (ctx, errors, done) => page({
    title: 'Contact us - Meridian Freight', brand: 'Meridian Freight', nav: NAVG, head: wpHead(style),
    body: `<article class="page"><h1>Contact us</h1>
<p>Our logistics team answers every enquiry within one business day.</p>
${done ? "<div id='gform_confirmation_wrapper_1' class='gform_confirmation_wrapper '><div id='gform_confirmation_message_1' class='gform_confirmation_message_1 gform_confirmation_message'>Thanks for contacting us! We will get in touch with you shortly.</div></div>" : form(ctx, errors)}
</article>`,
  });
  return {
    name: 'gravity-freight', builder: 'gravity-forms', contact: '/contact-us/',
    notes: 'Gravity Forms 2.8 (multipart): a name field with input_1.3/input_1.6 sub-inputs, an "Inquiry type" select (the sales option is expected), the gform_validation_container honeypot input_99 labelled "Phone" beside the real phone field, the gform hidden fields (state_1 a server token). The confirmation replaces the form.',
    robots: 'User-agent: *\nDisallow: /wp-admin/\n',
    pages: { '/': wpHome('Meridian Freight', NAVG), '/contact-us/': (ctx) => contact(ctx, null, false) },
    form: {
      action: '/contact-us/', tokens: ['state_1'], honeypots: ['input_99'],
      required: ['input_1.3', 'input_1.6', 'input_2', 'input_5', 'input_6'], emails: ['input_2'],
      equals: { gform_submit: '1', is_submit_1: '1' },
      check: (ctx, f) => (TYPES.includes(f.get('input_5')) ? [] : ['input_5: not an option']),
      success: (ctx) => contact(ctx, null, true),
      failure: (ctx, f, errors) => contact(ctx, errors, false),
    },
    expect: {
      outcome: 'submitted', posts: 1, confirm: 'Thanks for contacting us!',
      form: { method: 'POST', action: '/contact-us/', enctype: 'multipart/form-data' },
      fields: { 'input_1.3': '$sender.first_name', 'input_1.6': '$sender.last_name', input_2: '$sender.email',
                input_3: '$sender.company', input_4: '$sender.phone', input_5: 'New business / Sales',
                input_6: '$message', input_99: '', is_submit_1: '1', gform_submit: '1', gform_unique_id: '',
                state_1: '$any', gform_target_page_number_1: '0', gform_source_page_number_1: '1',
                gform_field_values: '' },
    },
  };
}

// ---- Elementor Pro --------------------------------------------------------------------------------
function elementor() {
  const grp = (type, id, label, input, req) => `<div class="elementor-field-type-${type} elementor-field-group elementor-column elementor-field-group-${id} elementor-col-100${req ? ' elementor-field-required' : ''}">
<label for="form-field-${id}" class="elementor-field-label">${label}</label>${input}</div>`;
  const form = (msg) => `<div class="elementor-element elementor-element-5e3a1c2 elementor-widget elementor-widget-form" data-id="5e3a1c2" data-element_type="widget" data-widget_type="form.default">
<div class="elementor-widget-container">
<form class="elementor-form" method="post" name="Contact Form" aria-label="Contact Form">
<input type="hidden" name="post_id" value="27"/>
<input type="hidden" name="form_id" value="5e3a1c2"/>
<input type="hidden" name="referer_title" value="Contact" />
<input type="hidden" name="queried_id" value="27"/>
<div class="elementor-form-fields-wrapper elementor-labels-above">
${grp('text', 'name', 'Name', '<input size="1" type="text" name="form_fields[name]" id="form-field-name" class="elementor-field elementor-size-sm elementor-field-textual" placeholder="Your name" required="required" aria-required="true">', true)}
${grp('email', 'email', 'Email', '<input size="1" type="email" name="form_fields[email]" id="form-field-email" class="elementor-field elementor-size-sm elementor-field-textual" placeholder="you@company.com" required="required" aria-required="true">', true)}
${grp('text', 'field_7c2d1a', 'Company', '<input size="1" type="text" name="form_fields[field_7c2d1a]" id="form-field-field_7c2d1a" class="elementor-field elementor-size-sm elementor-field-textual" placeholder="Company">', false)}
${grp('textarea', 'message', 'Message', '<textarea class="elementor-field-textual elementor-field elementor-size-sm" name="form_fields[message]" id="form-field-message" rows="4" placeholder="What can we do for you?" required="required" aria-required="true"></textarea>', true)}
<div class="elementor-field-type-checkbox elementor-field-group elementor-column elementor-field-group-newsletter elementor-col-100"><div class="elementor-field-subgroup"><span class="elementor-field-option"><input type="checkbox" value="Yes, send me the monthly newsletter" id="form-field-newsletter-0" name="form_fields[newsletter][]"> <label for="form-field-newsletter-0">Yes, send me the monthly newsletter</label></span></div></div>
<div class="elementor-field-type-honeypot elementor-field-group elementor-column elementor-field-group-field_e1a2b3 elementor-col-100"><input size="1" type="text" name="form_fields[field_e1a2b3]" id="form-field-field_e1a2b3" class="elementor-field elementor-size-sm elementor-field-textual" style="display:none !important;"></div>
<div class="elementor-field-group elementor-column elementor-field-type-submit elementor-col-100 e-form__buttons"><button type="submit" class="elementor-button elementor-size-sm"><span class="elementor-button-content-wrapper"><span class="elementor-button-text">Send</span></span></button></div>
</div>
${msg}
</form></div></div>`;
  const search = `<form role="search" method="get" class="search-form" action="/"><label><span class="screen-reader-text">Search for:</span><input type="search" class="search-field" placeholder="Search &hellip;" value="" name="s" /></label><input type="submit" class="search-submit" value="Search" /></form>`;
  const NAVE = [['/', 'Home'], ['/projects/', 'Projects'], ['/contact/', 'Contact']];
  const contact = (msg, showForm = true) => page({
    title: 'Contact &#8211; Copperleaf Agency', brand: 'Copperleaf Agency', nav: NAVE, head: wpHead('<meta name="generator" content="Elementor 3.21.5">'),
    bodyClass: 'page-template elementor-default elementor-kit-6 elementor-page elementor-page-27',
    body: `<div class="header-search">${search}</div>
<div data-elementor-type="wp-page" data-elementor-id="27" class="elementor elementor-27">
<h2 class="elementor-heading-title">Let's talk</h2>
${showForm ? form(msg) : msg}
</div>`,
  });
  const ok = '<div class="elementor-message elementor-message-success" role="alert">Your submission was successful. Thank you, we will reply soon.</div>';
  const bad = '<div class="elementor-message elementor-message-danger" role="alert">Your submission failed because of an error.</div>';
  return {
    name: 'elementor-agency', builder: 'elementor', contact: '/contact/',
    notes: 'Elementor Pro form (no action: it posts to the page), form_fields[...] names, an unchecked newsletter checkbox that must stay unchecked, Elementor\'s honeypot field (inline display:none, a random field_ name), a search form in the header. Real Elementor posts through admin-ajax with JavaScript; this site answers the page\'s own post with Elementor\'s success message in place of the form.',
    robots: 'User-agent: *\nDisallow: /wp-admin/\n',
    distractors: { '/': 'search' },
    pages: { '/': wpHome('Copperleaf Agency', NAVE), '/contact/': () => contact('') },
    form: {
      action: '/contact/', honeypots: ['form_fields[field_e1a2b3]'],
      required: ['form_fields[name]', 'form_fields[email]', 'form_fields[message]'], emails: ['form_fields[email]'],
      equals: { form_id: '5e3a1c2', post_id: '27' },
      check: (ctx, f) => (f.get('form_fields[newsletter][]') ? ['form_fields[newsletter][]: the sender did not ask for a newsletter'] : []),
      success: () => contact(ok, false),
      failure: () => contact(bad),
    },
    expect: {
      outcome: 'submitted', posts: 1, confirm: 'Your submission was successful.',
      form: { method: 'POST', action: '/contact/', enctype: 'application/x-www-form-urlencoded' },
      fields: { post_id: '27', form_id: '5e3a1c2', referer_title: 'Contact', queried_id: '27',
                'form_fields[name]': '$sender.name', 'form_fields[email]': '$sender.email',
                'form_fields[field_7c2d1a]': '$sender.company', 'form_fields[message]': '$message',
                'form_fields[field_e1a2b3]': '' },
    },
  };
}

// ---- CF7 with reCAPTCHA v3, CF7's quiz --------------------------------------------------------------
function cf7Recaptcha3() {
  const KEY = '6LcT0aUpAAAAAEm2Ckq6H1bFQmh3-R9dTq0AbCdE';
  const contact = (errors, status, output) => page({
    title: 'Contact | Lakeside Dental', brand: 'Lakeside Dental', nav: NAV,
    head: wpHead(`<script src="https://www.google.com/recaptcha/api.js?render=${KEY}&amp;ver=3.0" id="google-recaptcha-js"></script>
  <script id="wpcf7-recaptcha-js-before">var wpcf7_recaptcha = {"sitekey":"${KEY}","actions":{"homepage":"homepage","contactform":"contactform"}};</script>`),
    body: `<article class="page"><h1>Contact</h1>
${cf7({ id: 77, post: 12, action: '/contact/', status, output, extraHidden: '\n<input type="hidden" name="_wpcf7_recaptcha_response" value="" />', inner: `${cf7Text('Your name', 'your-name', 'text', errors)}
${cf7Text('Your email', 'your-email', 'email', errors)}
${cf7Area('Your message', 'your-message', errors)}
<p><input class="wpcf7-form-control wpcf7-submit has-spinner" type="submit" value="Send" /></p>` })}
<p class="recaptcha-note">This site is protected by reCAPTCHA and the Google <a href="https://policies.google.com/privacy">Privacy Policy</a> apply.</p>
</article>`,
  });
  return {
    name: 'cf7-recaptcha-v3', builder: 'contact-form-7', contact: '/contact/',
    notes: 'Contact Form 7 with its reCAPTCHA v3 integration: api.js?render=<sitekey> and the hidden _wpcf7_recaptcha_response that only the script fills. Every post is refused (the server never accepts one without a solved CAPTCHA).',
    robots: 'User-agent: *\nDisallow: /wp-admin/\n',
    pages: { '/': wpHome('Lakeside Dental'), '/contact/': () => contact(null, 'init', '') },
    form: { action: '/contact/', captcha: 'recaptcha_v3', failure: () => contact(null, 'spam', CF7_SPAM) },
    expect: {
      outcome: 'captcha_required', reason: 'captcha', captcha: 'recaptcha_v3', posts: 0,
      fields: { ...cf7Hidden(77, 12), _wpcf7_recaptcha_response: '$captcha_token', 'your-name': '$sender.name',
                'your-email': '$sender.email', 'your-message': '$message' },
    },
  };
}

function cf7Quiz() {
  const contact = (errors, status, output) => page({
    title: 'Contact &#8211; Fernhill Joinery', brand: 'Fernhill Joinery', nav: NAV, head: wpHead(),
    body: `<article class="page"><h1>Contact</h1>
${cf7({ id: 5, post: 9, locale: 'en_GB', action: '/contact/', status, output, inner: `${cf7Text('Your name', 'your-name', 'text', errors)}
${cf7Text('Your email', 'your-email', 'email', errors)}
${cf7Area('Your message', 'your-message', errors)}
<p><label>Spam check<br /><span class="wpcf7-form-control-wrap" data-name="quiz-math"><label><span class="wpcf7-quiz-label">What is 7 + 5?</span> <input size="40" class="wpcf7-form-control wpcf7-quiz" autocomplete="off" aria-required="true" aria-invalid="false" type="text" name="quiz-math" /></label><input type="hidden" name="_wpcf7_quiz_answer_quiz-math" value="${hex(32)}" /></span></label></p>
<p><input class="wpcf7-form-control wpcf7-submit has-spinner" type="submit" value="Send" /></p>` })}
</article>`,
  });
  return {
    name: 'cf7-quiz-math', builder: 'contact-form-7', contact: '/contact/',
    notes: 'Contact Form 7\'s quiz tag as a maths question ("What is 7 + 5?") with its hashed answer in a hidden field: a maths CAPTCHA the worker must not answer. Every post is refused.',
    robots: null,
    pages: { '/': wpHome('Fernhill Joinery'), '/contact/': () => contact(null, 'init', '') },
    form: { action: '/contact/', captcha: 'math', failure: () => contact(['quiz-math:'], 'invalid', CF7_INVALID) },
    expect: {
      outcome: 'captcha_required', reason: 'captcha', captcha: 'math', posts: 0,
      fields: { ...cf7Hidden(5, 9, 'en_GB'), 'your-name': '$sender.name', 'your-email': '$sender.email',
                'your-message': '$message', 'quiz-math': '$captcha', '_wpcf7_quiz_answer_quiz-math': '$captcha_token' },
    },
  };
}

// ---- Ninja Forms (JavaScript only) ---------------------------------------------------------------
function ninja() {
  return {
    name: 'ninja-forms-embed', builder: 'ninja-forms', contact: '/contact/',
    notes: 'Ninja Forms renders its form with JavaScript (Backbone templates): the page holds only the container, the loading spinner, the form\'s settings in a script and a noscript notice.',
    robots: 'User-agent: *\nDisallow: /wp-admin/\n',
    pages: {
      '/': wpHome('Bramble Garden Centre'),
      '/contact/': page({
        title: 'Contact &#8211; Bramble Garden Centre', brand: 'Bramble Garden Centre', nav: NAV,
        head: wpHead(`<link rel="stylesheet" id="nf-display-css" href="/wp-content/plugins/ninja-forms/assets/css/display-opinions-light.css?ver=3.8.4" media="all">
  <script src="/wp-content/plugins/ninja-forms/assets/js/min/front-end.js?ver=3.8.4" id="nf-front-end-js"></script>`),
        body: `<article class="page"><h1>Contact</h1>
<noscript class="ninja-forms-noscript-message">Notice: JavaScript is required for this content.</noscript>
<div id="nf-form-3-cont" class="nf-form-cont" aria-live="polite" aria-labelledby="nf-form-title-3" aria-describedby="nf-form-errors-3" role="form">
<div class="nf-loading-spinner"></div>
</div>
<script>var formDisplay=1;var nfForms=nfForms||[];var form=[];form.id='3';form.settings={"objectType":"Form Setting","title":"Contact Me","key":"","created_at":"2024-02-11 10:02:11","default_label_pos":"above","show_title":"0","clear_complete":"1","hide_complete":"1","wrapper_class":"","element_class":"","add_submit":"1","logged_in":"","not_logged_in_msg":"","sub_limit_number":"","sub_limit_msg":"","calculations":[],"formContentData":["name","email","message","submit"],"container_styles_background-color":"","ninjaForms":"Ninja Forms","changeEmailErrorMsg":"Please enter a valid email address!","fieldsMarkedRequired":"Fields marked with an <span class=\\"ninja-forms-req-symbol\\">*<\\/span> are required"};form.fields=[{"objectType":"Field","type":"textbox","label":"Name","key":"name","required":1,"id":1},{"objectType":"Field","type":"email","label":"Email","key":"email","required":1,"id":2},{"objectType":"Field","type":"textarea","label":"Message","key":"message","required":1,"id":3},{"objectType":"Field","type":"submit","label":"Submit","key":"submit","id":4}];nfForms.push(form);</script>
<script id="tmpl-nf-layout" type="text/template"><span id="nf-form-title-{{{ data.id }}}" class="nf-form-title">{{{ ( 1 == data.settings.show_title ) ? '<h' + data.settings.form_title_heading_level + '>' + data.settings.title + '</h' + data.settings.form_title_heading_level + '>' : '' }}}</span><div class="nf-form-wrap ninja-forms-form-wrap"><div class="nf-response-msg"></div><div class="nf-debug-msg"></div><div class="nf-before-form"></div><div class="nf-form-layout"></div><div class="nf-after-form"></div></div></script>
</article>`,
      }),
    },
    expect: { outcome: 'skipped', reason: 'js_required', embed: 'ninja_forms', posts: 0, fields: {} },
  };
}

// ---- distractors: search, newsletter, login and comment forms beside the contact form ---------------
function distractors() {
  const contactForm = (errors) => `<section class="contact-form" aria-labelledby="cf-title"><h2 id="cf-title">Send us a message</h2>
${errors ? `<div class="alert alert-danger" role="alert"><ul>${errors.map((e) => `<li>${esc(e.split(':').slice(1).join(':').trim() || e)}</li>`).join('')}</ul></div>` : ''}
<form id="contact" action="/contact/send" method="post" class="contact">
  <input type="hidden" name="nonce" value="ctf-${hex(10)}">
  <p><label for="c-name">Name</label> <input id="c-name" type="text" name="name" required></p>
  <p><label for="c-email">E-mail</label> <input id="c-email" type="email" name="email" required></p>
  <p><label for="c-msg">Message</label> <textarea id="c-msg" name="message" rows="6" required></textarea></p>
  <p><button type="submit">Send message</button></p>
</form></section>`;
  const body = (errors) => `<div class="layout"><div class="primary">
<article class="page"><h1>Contact</h1><p>Questions about an order? Ideas for a collaboration? Write to us.</p>
${contactForm(errors)}
</article>
<section id="comments" class="comments-area"><h2 class="comments-title">2 thoughts on &ldquo;Contact&rdquo;</h2>
<ol class="comment-list"><li class="comment"><p>Is the shop open on Sundays?</p></li><li class="comment"><p>Yes, from 10 to 4.</p></li></ol>
<div id="respond" class="comment-respond"><h3 id="reply-title" class="comment-reply-title">Leave a Reply</h3>
<form action="/wp-comments-post.php" method="post" id="commentform" class="comment-form" novalidate>
<p class="comment-notes"><span id="email-notes">Your email address will not be published.</span> Required fields are marked <span class="required">*</span></p>
<p class="comment-form-comment"><label for="comment">Comment <span class="required">*</span></label> <textarea id="comment" name="comment" cols="45" rows="8" maxlength="65525" required></textarea></p>
<p class="comment-form-author"><label for="author">Name <span class="required">*</span></label> <input id="author" name="author" type="text" value="" size="30" maxlength="245" autocomplete="name" required /></p>
<p class="comment-form-email"><label for="email">Email <span class="required">*</span></label> <input id="email" name="email" type="email" value="" size="30" maxlength="100" aria-describedby="email-notes" autocomplete="email" required /></p>
<p class="comment-form-url"><label for="url">Website</label> <input id="url" name="url" type="url" value="" size="30" maxlength="200" autocomplete="url" /></p>
<p class="comment-form-cookies-consent"><input id="wp-comment-cookies-consent" name="wp-comment-cookies-consent" type="checkbox" value="yes" /> <label for="wp-comment-cookies-consent">Save my name, email, and website in this browser for the next time I comment.</label></p>
<p class="form-submit"><input name="submit" type="submit" id="submit" class="submit" value="Post Comment" /> <input type='hidden' name='comment_post_ID' value='31' id='comment_post_ID' />
<input type='hidden' name='comment_parent' id='comment_parent' value='0' /></p></form></div></section>
</div>
<aside class="sidebar">
<section class="widget widget_search"><form role="search" method="get" id="searchform" class="searchform" action="/"><label class="screen-reader-text" for="s">Search for:</label><input type="text" value="" name="s" id="s" /><input type="submit" id="searchsubmit" value="Search" /></form></section>
<section class="widget widget_newsletter"><h2>Newsletter</h2><p>New arrivals once a month.</p><form class="newsletter" action="/newsletter/subscribe" method="post"><input type="email" name="EMAIL" placeholder="Your email address" required> <input type="hidden" name="list" value="monthly"><button type="submit">Subscribe</button></form></section>
<section class="widget widget_login"><h2>Customer login</h2><form name="loginform" id="loginform" action="/wp-login.php" method="post"><p class="login-username"><label for="user_login">Username or Email Address</label><input type="text" name="log" id="user_login" autocomplete="username" class="input" value="" size="20" /></p><p class="login-password"><label for="user_pass">Password</label><input type="password" name="pwd" id="user_pass" autocomplete="current-password" class="input" value="" size="20" /></p><p class="login-remember"><label><input name="rememberme" type="checkbox" id="rememberme" value="forever" /> Remember Me</label></p><p class="login-submit"><input type="submit" name="wp-submit" id="wp-submit" class="button button-primary" value="Log In" /><input type="hidden" name="redirect_to" value="/contact/" /></p></form></section>
</aside></div>`;
  const NAVD = [['/', 'Shop'], ['/blog/', 'Journal'], ['/contact/', 'Contact']];
  return {
    name: 'distractors', builder: 'wordpress-custom', contact: '/contact/',
    notes: 'The contact page also holds a search form (GET), a newsletter sign-up (e-mail only), a login form and a WordPress comment form (a textarea, name, e-mail and website: the classic wrong pick). Only the form posting to /contact/send is the contact form; posts to the others are recorded as distractor posts. Success is a 303 to /contact/thanks/.',
    robots: 'User-agent: *\nDisallow: /wp-admin/\n',
    distractors: { '/wp-comments-post.php': 'comment', '/newsletter/subscribe': 'newsletter', '/wp-login.php': 'login', '/': 'search' },
    pages: {
      '/': wpHome('Tidewater Ceramics', NAVD),
      '/contact/': page({ title: 'Contact &#8211; Tidewater Ceramics', brand: 'Tidewater Ceramics', nav: NAVD, head: wpHead(), body: body(null) }),
      '/contact/thanks/': page({ title: 'Thank you &#8211; Tidewater Ceramics', brand: 'Tidewater Ceramics', nav: NAVD, head: wpHead(),
                                 body: '<article class="page"><h1>Thank you!</h1><p>Your message has been sent. We usually reply within a day.</p></article>' }),
    },
    form: {
      action: '/contact/send', required: ['name', 'email', 'message'], emails: ['email'],
      check: (ctx, f) => (/^ctf-[0-9a-f]{10}$/.test(f.get('nonce') || '') ? [] : ['nonce: missing']),
      success: () => ({ status: 303, redirect: '/contact/thanks/' }),
      failure: (ctx, f, errors) => ({ status: 200, body: page({ title: 'Contact &#8211; Tidewater Ceramics', brand: 'Tidewater Ceramics', nav: NAVD, head: wpHead(), body: body(errors) }) }),
    },
    expect: {
      outcome: 'submitted', posts: 1, confirm: 'Your message has been sent.',
      form: { method: 'POST', action: '/contact/send', enctype: 'application/x-www-form-urlencoded' },
      fields: { nonce: '$any', name: '$sender.name', email: '$sender.email', message: '$message' },
    },
  };
}

export const WP_SITES = [cf7Studio(), wpforms(), gravity(), elementor(), distractors(), cf7Recaptcha3(), cf7Quiz(), ninja()];
export { rand };
