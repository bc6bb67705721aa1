/* The form worker's HTML core (workers/form/form_page.h): charsets, contact links, the choice of
 * the contact form, JavaScript embeds, CAPTCHAs, opt-out notices and contacts, on small pages
 * modelled on the markup real builders emit. Filling and judging: test_form_page_fill.c. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "form_page.h"

#define URL "https://www.acme.example/contact/"

static form_page_t *parse_ct(const char *html, size_t len, const char *ct)
{
    char err[128] = "";
    form_page_t *p = form_page_parse(html, len, ct, URL, err, sizeof err);
    cr_assert(p, "parse failed: %s", err);
    return p;
}

static form_page_t *parse(const char *html)
{
    return parse_ct(html, strlen(html), "text/html; charset=utf-8");
}

static form_analysis_t analyze(form_page_t *p)
{
    form_analysis_t a;
    form_page_analyze(p, &a);
    return a;
}

/* ---- charsets ---- */

Test(form_page_charset, utf8_from_the_content_type)
{
    form_page_t *p = parse("<title>Kontakt – Müller</title><p>Grüße</p>");
    cr_assert_str_eq(form_page_charset(p), "utf-8");
    cr_assert_str_eq(form_page_title(p), "Kontakt – Müller");
    cr_assert_str_eq(form_page_text(p), "Grüße");
    form_page_free(&p);
    cr_assert_null(p);
}

Test(form_page_charset, iso_8859_1_from_the_content_type)
{
    const char html[] = "<p>Gr\xfc\xdf\x65 aus K\xf6ln</p>";
    form_page_t *p = parse_ct(html, sizeof html - 1, "text/html; charset=ISO-8859-1");
    cr_assert_str_eq(form_page_charset(p), "iso-8859-1");
    cr_assert_str_eq(form_page_text(p), "Grüße aus Köln");
    form_page_free(&p);
}

Test(form_page_charset, windows_1252_from_a_meta_http_equiv)
{
    const char html[] = "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; "
                        "charset=windows-1252\"></head><body><p>\x93"
                        "Caf\xe9\x94 \x80 5</p>";
    form_page_t *p = parse_ct(html, sizeof html - 1, "text/html");
    cr_assert_str_eq(form_page_charset(p), "windows-1252");
    cr_assert_str_eq(form_page_text(p), "“Café” € 5");
    form_page_free(&p);
}

Test(form_page_charset, shift_jis_from_a_meta_charset)
{
    /* お問い合わせ in Shift_JIS */
    const char html[] = "<meta charset=\"Shift_JIS\"><h1>\x82\xa8\x96\xe2\x82\xa2\x8d\x87\x82"
                        "\xed\x82\xb9</h1>";
    form_page_t *p = parse_ct(html, sizeof html - 1, NULL);
    cr_assert_str_eq(form_page_charset(p), "shift_jis");
    cr_assert_str_eq(form_page_text(p), "お問い合わせ");
    form_page_free(&p);
}

Test(form_page_charset, a_bom_wins_and_undeclared_bytes_fall_back_to_windows_1252)
{
    const char bom[] = "\xef\xbb\xbf<p>caf\xc3\xa9</p>";
    form_page_t *p = parse_ct(bom, sizeof bom - 1, "text/html; charset=iso-8859-1");
    cr_assert_str_eq(form_page_charset(p), "utf-8");
    cr_assert_str_eq(form_page_text(p), "café");
    form_page_free(&p);
    const char latin[] = "<p>caf\xe9</p>";
    p = parse_ct(latin, sizeof latin - 1, NULL);
    cr_assert_str_eq(form_page_charset(p), "windows-1252");
    cr_assert_str_eq(form_page_text(p), "café");
    form_page_free(&p);
}

Test(form_page_charset, invalid_utf8_is_replaced_not_refused)
{
    const char bad[] = "<p>a\xff\xfe b</p>";
    form_page_t *p = parse_ct(bad, sizeof bad - 1, "text/html; charset=utf-8");
    cr_assert_str_eq(form_page_text(p), "a\xef\xbf\xbd\xef\xbf\xbd b");
    form_page_free(&p);
}

Test(form_page, text_leaves_out_scripts_styles_and_hidden_parts)
{
    form_page_t *p = parse("<html lang=\"de\"><head><style>p{}</style><script>var x=1;</script>"
                           "</head><body><p>Hallo</p><div hidden>nope</div>"
                           "<div style=\"display: none\">nope</div><p>Welt\n\n  !</p></body>");
    cr_assert_str_eq(form_page_text(p), "Hallo Welt !");
    cr_assert_str_eq(form_page_lang(p), "de");
    cr_assert_str_eq(form_page_url(p), URL);
    cr_assert(form_page_memory(p) > 0 && form_page_memory(p) < 16384, "%zu", form_page_memory(p));
    form_page_free(&p);
}

Test(form_page, over_the_bound_is_refused_with_a_reason)
{
    char err[128] = "";
    cr_assert_null(form_page_parse("x", (size_t)64 << 20, NULL, URL, err, sizeof err));
    cr_assert(strstr(err, "bound"), "%s", err);
}

/* ---- contact links ---- */

Test(form_page_links, contact_links_in_many_languages_same_site_best_first)
{
    form_page_t *p =
        parse("<header><nav><a href=\"/\">Home</a><a href=\"/about\">About</a>"
              "<a href=\"/kontakt\">Kontakt</a></nav></header>"
              "<main><p>Questions? <a href=\"https://other.example/contact\">their contact</a>"
              " <a href=\"/blog/how-we-contact-customers\">How we talk to customers and much more "
              "reading</a></p></main>"
              "<footer><a href=\"https://acme.example/contact-us#form\" aria-label=\"Contact us\">"
              "<img src=\"mail.svg\" alt=\"\"></a><a href=\"mailto:info@acme.example\">mail</a>"
              "<a href=\"/contact/\">self</a></footer>");
    const char *u[8];
    size_t n = form_page_contact_links(p, u, 8);
    cr_assert_eq(n, 3, "got %zu", n);
    cr_assert_str_eq(u[0], "https://www.acme.example/kontakt"); /* words, path and nav */
    cr_assert_str_eq(u[1], "https://acme.example/contact-us");  /* aria-label and path */
    cr_assert_str_eq(u[2], "https://www.acme.example/blog/how-we-contact-customers");
    cr_assert_eq(form_page_contact_links(p, u, 1), 1);
    form_page_free(&p);
}

Test(form_page_links, japanese_french_dutch_and_chinese_words)
{
    const char *pages[][2] = {
        {"<nav><a href=\"/inquiry.html\">お問い合わせ</a></nav>", "/inquiry.html"},
        {"<a href=\"/page-12\">Nous contacter</a>", "/page-12"},
        {"<a href=\"/p?id=3\">Neem contact op</a>", "/p?id=3"},
        {"<a href=\"/lx\">联系我们</a>", "/lx"},
        {"<a href=\"/s\">Связаться с нами</a>", "/s"},
        {"<a href=\"/x\" title=\"Contatti\">›</a>", "/x"},
        {"<base href=\"https://www.acme.example/it/\"><a href=\"contatti\">Contatti</a>",
         "/it/contatti"},
    };
    for (size_t i = 0; i < sizeof pages / sizeof *pages; i++) {
        form_page_t *p = parse(pages[i][0]);
        const char *u[2];
        cr_assert_eq(form_page_contact_links(p, u, 2), 1, "page %zu", i);
        cr_assert(strstr(u[0], pages[i][1]), "page %zu: %s", i, u[0]);
        form_page_free(&p);
    }
}

/* ---- choosing the form ---- */

static const char *CF7 =
    "<form role=\"search\" method=\"get\" class=\"search-form\" "
    "action=\"https://www.acme.example/\">"
    "<label><span class=\"screen-reader-text\">Search for:</span><input type=\"search\" "
    "class=\"search-field\" name=\"s\"></label><input type=\"submit\" value=\"Search\"></form>"
    "<div class=\"wpcf7 js\" id=\"wpcf7-f12-p7-o1\" lang=\"en-US\" dir=\"ltr\">"
    "<div class=\"screen-reader-response\"><p role=\"status\" aria-live=\"polite\" "
    "aria-atomic=\"true\"></p><ul></ul></div>"
    "<form action=\"/contact/#wpcf7-f12-p7-o1\" method=\"post\" class=\"wpcf7-form init\" "
    "aria-label=\"Contact form\" novalidate=\"novalidate\" data-status=\"init\">"
    "<div style=\"display: none;\"><input type=\"hidden\" name=\"_wpcf7\" value=\"12\">"
    "<input type=\"hidden\" name=\"_wpcf7_version\" value=\"5.9.3\">"
    "<input type=\"hidden\" name=\"_wpcf7_unit_tag\" value=\"wpcf7-f12-p7-o1\"></div>"
    "<p><label> Your name<br><span class=\"wpcf7-form-control-wrap\" data-name=\"your-name\">"
    "<input size=\"40\" maxlength=\"400\" class=\"wpcf7-form-control wpcf7-text "
    "wpcf7-validates-as-required\" autocomplete=\"name\" aria-required=\"true\" "
    "aria-invalid=\"false\" value=\"\" type=\"text\" name=\"your-name\"></span></label></p>"
    "<p><label> Your email<br><span class=\"wpcf7-form-control-wrap\" data-name=\"your-email\">"
    "<input size=\"40\" class=\"wpcf7-form-control wpcf7-email wpcf7-validates-as-required "
    "wpcf7-text wpcf7-validates-as-email\" autocomplete=\"email\" aria-required=\"true\" "
    "value=\"\" type=\"email\" name=\"your-email\"></span></label></p>"
    "<p><label> Subject<br><span class=\"wpcf7-form-control-wrap\" data-name=\"your-subject\">"
    "<input size=\"40\" class=\"wpcf7-form-control wpcf7-text\" value=\"\" type=\"text\" "
    "name=\"your-subject\"></span></label></p>"
    "<p><label> Your message (optional)<br><span class=\"wpcf7-form-control-wrap\" "
    "data-name=\"your-message\"><textarea cols=\"40\" rows=\"10\" maxlength=\"2000\" "
    "class=\"wpcf7-form-control wpcf7-textarea\" name=\"your-message\"></textarea></span>"
    "</label></p><p><input class=\"wpcf7-form-control wpcf7-submit has-spinner\" "
    "type=\"submit\" value=\"Submit\"></p>"
    "<div class=\"wpcf7-response-output\" aria-hidden=\"true\"></div></form></div>";

Test(form_page_choice, contact_form_7_beside_a_search_form)
{
    form_page_t *p = parse(CF7);
    cr_assert_eq(form_page_nforms(p), 2);
    form_analysis_t a = analyze(p);
    cr_assert_eq(a.verdict, FORM_VERDICT_CONTACT);
    cr_assert_eq(a.form, 1);
    cr_assert(strstr(a.why, "form 2: a message textarea"), "%s", a.why);
    cr_assert(strstr(a.why, "form 1 is a search form"), "%s", a.why);
    cr_assert_null(a.captcha);
    cr_assert_null(a.opt_out);
    form_page_free(&p);
}

Test(form_page_choice, newsletter_login_and_comment_forms_are_not_contact_forms)
{
    form_page_t *p =
        parse("<form action=\"/subscribe\" method=\"post\" id=\"mc-embedded-subscribe-form\">"
              "<h3>Subscribe to our newsletter</h3><input type=\"email\" name=\"EMAIL\" "
              "placeholder=\"Email\"><input type=\"submit\" value=\"Subscribe\"></form>"
              "<form action=\"/wp-login.php\" method=\"post\"><input name=\"log\"><input "
              "type=\"password\" name=\"pwd\"><textarea name=\"note\"></textarea></form>"
              "<form action=\"https://www.acme.example/wp-comments-post.php\" method=\"post\" "
              "id=\"commentform\" class=\"comment-form\"><p><label for=\"comment\">Comment</label>"
              "<textarea id=\"comment\" name=\"comment\"></textarea></p><p><label for=\"author\">"
              "Name</label><input id=\"author\" name=\"author\"></p><p><label for=\"email\">Email"
              "</label><input id=\"email\" name=\"email\" type=\"email\"></p><p><label for=\"url\">"
              "Website</label><input id=\"url\" name=\"url\" type=\"url\"></p></form>");
    form_analysis_t a = analyze(p);
    cr_assert_eq(a.verdict, FORM_VERDICT_NO_FORM);
    cr_assert_eq(a.form, -1);
    cr_assert(strstr(a.why, "form 1 is a newsletter form"), "%s", a.why);
    cr_assert(strstr(a.why, "form 2 is a login or sign-up form"), "%s", a.why);
    cr_assert(strstr(a.why, "form 3 is a comment form"), "%s", a.why);
    form_page_free(&p);
}

Test(form_page_choice, no_form_records_the_emails_and_phones_on_the_page)
{
    form_page_t *p = parse(
        "<h1>Contact</h1><p>Write to <a href=\"mailto:hello%40acme.example?subject=Hi\">us</a> "
        "or sales@acme.example, or call <a href=\"tel:+44-20-7946-0000\">our office</a>.</p>"
        "<p>Tel.: 030 1234567 · Fax: 030 1234568 · Mobile +49 (0)171 555 1234</p>"
        "<p>Founded 2004, 12 staff, logo@2x.png</p>");
    form_analysis_t a = analyze(p);
    cr_assert_eq(a.verdict, FORM_VERDICT_NO_FORM);
    cr_assert_str_eq(a.why, "the page has no form");
    cr_assert_eq(a.nemails, 2);
    cr_assert_str_eq(a.emails[0], "hello@acme.example");
    cr_assert_str_eq(a.emails[1], "sales@acme.example");
    cr_assert_eq(a.nphones, 3, "%zu", a.nphones);
    cr_assert_str_eq(a.phones[0], "+44-20-7946-0000");
    cr_assert_str_eq(a.phones[1], "030 1234567");
    cr_assert_str_eq(a.phones[2], "+49 (0)171 555 1234");
    form_page_free(&p);
}

Test(form_page_choice, fields_outside_the_form_by_its_id_and_a_bounded_number_of_forms)
{
    form_page_t *p =
        parse("<form id=\"f1\" method=\"post\" action=\"/send\"></form><p><label "
              "for=m>Message</label><textarea id=m form=\"f1\" name=\"msg\"></textarea>"
              "<input form=\"f1\" type=\"email\" name=\"e\"></p>");
    form_analysis_t a = analyze(p);
    cr_assert_eq(a.verdict, FORM_VERDICT_CONTACT, "%s", a.why);
    form_page_free(&p);
    char html[16384];
    size_t n = 0;
    for (int i = 0; i < 100; i++) n += (size_t)snprintf(html + n, sizeof html - n, "<form></form>");
    p = parse(html);
    cr_assert_eq(form_page_nforms(p), 64);
    form_page_free(&p);
}

/* ---- JavaScript embeds ---- */

Test(form_page_embed, builders_that_render_the_form_in_the_browser)
{
    const char *pages[][2] = {
        {"<script charset=\"utf-8\" type=\"text/javascript\" src=\"//js.hsforms.net/forms/embed/"
         "v2.js\"></script><script>hbspt.forms.create({region: \"na1\", portalId: \"123\", "
         "formId: \"abc\"});</script>",
         "hubspot"},
        {"<div data-tf-widget=\"abc123\" style=\"width:100%;height:400px;\"></div><script "
         "src=\"//embed.typeform.com/next/embed.js\"></script>",
         "typeform"},
        {"<div id=\"nf-form-3-cont\" class=\"nf-form-cont\"><div class=\"nf-loading-spinner\">"
         "</div></div><script id=\"tmpl-nf-field-textarea\" type=\"text/template\"><textarea "
         "id=\"nf-field-{{{ data.id }}}\"></textarea></script>",
         "ninja_forms"},
        {"<meta name=\"generator\" content=\"Wix.com Website Builder\"><div id=\"SITE_CONTAINER\">"
         "</div>",
         "wix"},
        {"<iframe src=\"https://docs.google.com/forms/d/e/1FAIpQL/viewform?embedded=true\" "
         "width=\"640\" height=\"800\">Loading…</iframe>",
         "google_forms"},
        {"<script type=\"text/javascript\" src=\"https://form.jotform.com/jsform/2301\"></script>",
         "jotform"},
        {"<script src=\"//app-ab12.marketo.com/js/forms2/js/forms2.min.js\"></script><form "
         "id=\"mktoForm_1057\"></form><script>MktoForms2.loadForm(\"//app-ab12.marketo.com\", "
         "\"123-ABC-456\", 1057);</script>",
         "marketo"},
        {"<div class=\"pipedriveWebForms\" data-pd-webforms=\"https://webforms.pipedrive.com/f/"
         "abc\"><script src=\"https://webforms.pipedrive.com/f/loader\"></script></div>",
         "pipedrive"},
        {"<div class=\"cognito\"><script src=\"https://www.cognitoforms.com/f/seamless.js\" "
         "data-key=\"x\" data-form=\"1\"></script></div>",
         "cognito"},
        {"<script src=\"https://acme.formstack.com/forms/js.php/contact\"></script>", "formstack"},
        {"<div class=\"elementor-element elementor-widget elementor-widget-form\" "
         "data-widget_type=\"form.default\"><div class=\"elementor-widget-container\"></div>"
         "</div>",
         "elementor"},
    };
    for (size_t i = 0; i < sizeof pages / sizeof *pages; i++) {
        form_page_t *p = parse(pages[i][0]);
        form_analysis_t a = analyze(p);
        cr_assert_eq(a.verdict, FORM_VERDICT_JS_REQUIRED, "page %zu: %s", i, a.why);
        cr_assert_str_eq(a.embed, pages[i][1], "page %zu", i);
        cr_assert(strstr(a.why, pages[i][1]), "%s", a.why);
        form_page_free(&p);
    }
}

Test(form_page_embed, a_contact_form_in_the_markup_wins_over_an_embed)
{
    char html[8192];
    snprintf(html, sizeof html, "%s<script src=\"//js.hsforms.net/forms/v2.js\"></script>", CF7);
    form_page_t *p = parse(html);
    form_analysis_t a = analyze(p);
    cr_assert_eq(a.verdict, FORM_VERDICT_CONTACT);
    cr_assert_null(a.embed);
    form_page_free(&p);
}

/* ---- CAPTCHAs ---- */

static const char *captcha_of(const char *extra_in_form, const char *extra_in_page,
                              const char **evidence)
{
    static char kind[64];
    char html[4096];
    snprintf(html, sizeof html,
             "%s<form method=\"post\" action=\"/send\"><label>Name <input name=\"name\"></label>"
             "<label>Email <input type=\"email\" name=\"email\"></label><label>Message "
             "<textarea name=\"message\"></textarea></label>%s<button>Send</button></form>",
             extra_in_page, extra_in_form);
    form_page_t *p = parse(html);
    form_analysis_t a = analyze(p);
    cr_assert_eq(a.verdict, FORM_VERDICT_CONTACT, "%s", a.why);
    snprintf(kind, sizeof kind, "%s", a.captcha ? a.captcha : "none");
    static char ev[256];
    snprintf(ev, sizeof ev, "%s", a.captcha_evidence ? a.captcha_evidence : "");
    if (evidence) *evidence = ev;
    form_page_free(&p);
    return kind;
}

Test(form_page_captcha, each_kind_is_detected_with_its_evidence)
{
    const char *ev;
    cr_assert_str_eq(captcha_of("<div class=\"g-recaptcha\" data-sitekey=\"6Lc\"></div>",
                                "<script src=\"https://www.google.com/recaptcha/api.js\" async "
                                "defer></script>",
                                &ev),
                     "recaptcha_v2");
    cr_assert_str_eq(ev, "div.g-recaptcha[data-sitekey]");
    cr_assert_str_eq(captcha_of("",
                                "<script src=\"https://www.google.com/recaptcha/api.js?render="
                                "6LcKEY&ver=3.0\"></script>",
                                &ev),
                     "recaptcha_v3");
    cr_assert(strstr(ev, "render=6LcKEY"), "%s", ev);
    cr_assert_str_eq(captcha_of("<input type=\"hidden\" name=\"token\">",
                                "<script>grecaptcha.ready(function(){grecaptcha.execute('k',"
                                "{action:'contact'})});</script>",
                                NULL),
                     "recaptcha_v3");
    cr_assert_str_eq(
        captcha_of("<div class=\"h-captcha\" data-sitekey=\"10000000-ffff\"></div>",
                   "<script src=\"https://js.hcaptcha.com/1/api.js\" async defer></script>", &ev),
        "hcaptcha");
    cr_assert_str_eq(
        captcha_of("<div class=\"cf-turnstile\" data-sitekey=\"0x4AAA\"></div>",
                   "<script src=\"https://challenges.cloudflare.com/turnstile/v0/api.js\">"
                   "</script>",
                   NULL),
        "turnstile");
    cr_assert_str_eq(captcha_of("<div class=\"frc-captcha\" data-sitekey=\"FC\"></div>",
                                "<script type=\"module\" src=\"https://cdn.jsdelivr.net/npm/"
                                "friendly-challenge@0.9.12/widget.module.min.js\"></script>",
                                NULL),
                     "friendly_captcha");
    cr_assert_str_eq(captcha_of("<label for=\"cq\">What is 3 + 4?</label><input id=\"cq\" "
                                "name=\"cq_answer\" required>",
                                "", &ev),
                     "math");
    cr_assert(strstr(ev, "3 + 4"), "%s", ev);
    cr_assert_str_eq(captcha_of("<p><img src=\"/securimage/securimage_show.php\" alt=\"CAPTCHA "
                                "Image\"></p><input type=\"text\" name=\"captcha_code\" "
                                "size=\"10\">",
                                "", &ev),
                     "image");
    cr_assert_str_eq(captcha_of("", "", NULL), "none");
}

Test(form_page_captcha, a_widget_in_another_form_is_not_the_contact_forms)
{
    cr_assert_str_eq(captcha_of("",
                                "<form action=\"/login\"><input name=\"u\"><input "
                                "type=\"password\" name=\"p\"><div class=\"g-recaptcha\" "
                                "data-sitekey=\"x\"></div></form><script src=\"https://www."
                                "google.com/recaptcha/api.js\"></script>",
                                NULL),
                     "none");
}

/* ---- opt-out notices ---- */

Test(form_page_opt_out, notices_in_several_languages)
{
    const char *pages[][2] = {
        {"<p>No solicitations, please. We do not buy SEO.</p>", "No solicitations, please"},
        {"<p>Bitte keine Werbung und keine Akquise über dieses Formular.</p>", "keine Werbung"},
        {"<p>Pas de démarchage commercial.</p>", "Pas de démarchage commercial"},
        {"<p>No se aceptan ofertas comerciales.</p>", "No se aceptan ofertas comerciales"},
        {"<p>※営業お断り。</p>", "営業お断り"},
        {"<p>セールスお断り</p>", "セールスお断り"},
        {"<p>We do not accept unsolicited sales emails.</p>", "We do not accept unsolicited"},
    };
    for (size_t i = 0; i < sizeof pages / sizeof *pages; i++) {
        char html[4096];
        snprintf(html, sizeof html, "%s%s", CF7, pages[i][0]);
        form_page_t *p = parse(html);
        form_analysis_t a = analyze(p);
        cr_assert_not_null(a.opt_out, "page %zu", i);
        cr_assert(strstr(a.opt_out, pages[i][1]), "page %zu: %s", i, a.opt_out);
        form_page_free(&p);
    }
    form_page_t *p = parse("<p>Our sales team answers within a day.</p>");
    cr_assert_null(analyze(p).opt_out);
    form_page_free(&p);
}

Test(form_page, analysis_is_made_once_and_deep_or_broken_markup_still_parses)
{
    char *deep = malloc(200000);
    size_t n = 0;
    for (int i = 0; i < 30000; i++) n += (size_t)sprintf(deep + n, "<div>");
    n += (size_t)sprintf(deep + n, "<form><textarea name=m></textarea><input name=email "
                                   "type=email></form>");
    form_page_t *p = parse_ct(deep, n, NULL);
    form_analysis_t a = analyze(p), b = analyze(p);
    cr_assert_eq(a.why, b.why);
    form_page_free(&p);
    free(deep);
    p = parse("<form><p><textarea name=message></textarea><input name=email type=email></table>"
              "</td><b><i></b></i>");
    cr_assert_eq(analyze(p).verdict, FORM_VERDICT_CONTACT);
    form_page_free(&p);
}

Test(form_encode, a_post_goes_in_the_pages_charset_with_references_for_the_rest)
{
    size_t n;
    /* a Shift_JIS page: ° and 日本 in Shift_JIS, ü (not in it) as a reference, as browsers do */
    form_page_t *p = parse_ct("<p>x</p>", 8, "text/html; charset=Shift_JIS");
    const char *e = form_page_encode(p, "40\xC2\xB0 \xE6\x97\xA5\xE6\x9C\xAC \xC3\xBC", &n);
    cr_assert_eq(n, 16, "%zu", n);
    cr_assert(memcmp(e, "40\x81\x8B \x93\xFA\x96\x7B &#252;", n) == 0, "%.*s", (int)n, e);
    form_page_free(&p);
    /* a Latin-1 page (sent as Windows-1252): é in one byte, € too, 日 as a reference */
    p = parse_ct("<p>x</p>", 8, "text/html; charset=iso-8859-1");
    e = form_page_encode(p, "\xC3\xA9\xE2\x82\xAC\xE6\x97\xA5", &n);
    cr_assert_eq(n, 10, "%zu", n);
    cr_assert(memcmp(e, "\xE9\x80&#26085;", n) == 0, "%.*s", (int)n, e);
    form_page_free(&p);
    /* a UTF-8 page: the text itself */
    p = parse("<p>x</p>");
    const char *t = "caf\xC3\xA9";
    cr_assert_eq(form_page_encode(p, t, &n), t);
    cr_assert_eq(n, 5);
    form_page_free(&p);
}
