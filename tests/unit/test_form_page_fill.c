/* Filling and judging (workers/form/form_page.h): the field classifier in several languages,
 * honeypots, forms of real builders (Contact Form 7, WPForms, Gravity Forms, Elementor, Webflow,
 * Drupal Webform, Django) filled with exactly what a careful person would send, and the answers
 * to a post. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "form_page.h"

#define URL "https://www.acme.example/contact/"

static const form_sender_t ADA = {.name = "Ada Lovelace",
                                  .email = "ada@analytical-engines.example",
                                  .phone = "+44 20 7946 0000",
                                  .company = "Analytical Engines Ltd",
                                  .website = "https://analytical-engines.example",
                                  .title = "Head of Partnerships"};
#define SUBJECT "Enquiry from Analytical Engines Ltd"
#define MESSAGE "Hello, we would like to talk about a partnership."

static form_page_t *parse(const char *html)
{
    char err[128] = "";
    form_page_t *p =
        form_page_parse(html, strlen(html), "text/html; charset=utf-8", URL, err, sizeof err);
    cr_assert(p, "%s", err);
    return p;
}

/* ---- the classifier ---- */

static form_kind_t by_label(const char *tag, const char *type, const char *label)
{
    form_field_desc_t d = {.tag = tag, .type = type, .label = label};
    return form_classify_field(&d);
}

static void labels_are(const char *const *labels, const form_kind_t *kinds, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        form_kind_t k = by_label("input", "text", labels[i]);
        cr_assert_eq(k, kinds[i], "\"%s\": %s, wanted %s", labels[i], form_kind_name(k),
                     form_kind_name(kinds[i]));
    }
}

#define LABELS(...)                                                                                \
    const char *const l[] = {__VA_ARGS__};                                                         \
    labels_are(l, K, sizeof l / sizeof *l)

static const form_kind_t K[] = {FORM_KIND_FIRST_NAME, FORM_KIND_LAST_NAME, FORM_KIND_FULL_NAME,
                                FORM_KIND_EMAIL,      FORM_KIND_PHONE,     FORM_KIND_COMPANY,
                                FORM_KIND_WEBSITE,    FORM_KIND_JOB_TITLE, FORM_KIND_SUBJECT,
                                FORM_KIND_MESSAGE};

Test(form_classify, english)
{
    LABELS("First name", "Last name *", "Your name", "Email address", "Phone number",
           "Company name", "Company website", "Job title", "Subject", "Message");
}
Test(form_classify, german)
{
    LABELS("Vorname", "Nachname*", "Name", "E-Mail-Adresse (Pflicht)", "Telefonnummer", "Firma",
           "Webseite", "Position", "Betreff", "Ihre Nachricht");
}
Test(form_classify, french)
{
    LABELS("Prénom", "Nom de famille", "Nom", "Adresse e-mail", "Téléphone", "Société", "Site web",
           "Fonction", "Objet", "Votre message");
}
Test(form_classify, spanish)
{
    LABELS("Primeiro nome", "Apellidos", "Nombre", "Correo electrónico", "Teléfono", "Empresa",
           "Sitio web", "Cargo", "Asunto", "Mensaje");
}
Test(form_classify, italian)
{
    LABELS("Prenome", "Cognome", "Nome", "Indirizzo email", "Telefono", "Azienda", "Sito web",
           "Ruolo", "Oggetto", "Messaggio");
}
Test(form_classify, dutch)
{
    LABELS("Voornaam", "Achternaam", "Naam", "E-mailadres", "Telefoonnummer", "Bedrijfsnaam",
           "Website", "Functie", "Onderwerp", "Bericht");
}
Test(form_classify, portuguese)
{
    LABELS("Primeiro nome", "Sobrenome", "Nome", "E-mail", "Telefone", "Empresa", "Site", "Cargo",
           "Assunto", "Mensagem");
}
Test(form_classify, japanese)
{
    LABELS("名", "姓", "お名前", "メールアドレス", "電話番号", "会社名", "ホームページ", "役職",
           "件名", "お問い合わせ内容");
    cr_assert_eq(by_label("input", "text", "フリガナ"), FORM_KIND_OTHER);
}

Test(form_classify, names_ids_autocomplete_types_and_placeholders)
{
    struct {
        form_field_desc_t d;
        form_kind_t k;
    } cases[] = {
        {{.tag = "input", .name = "your-name"}, FORM_KIND_FULL_NAME},
        {{.tag = "input", .name = "wpforms[fields][0][first]", .id = "wpforms-42-field_0"},
         FORM_KIND_FIRST_NAME},
        {{.tag = "input", .name = "wpforms[fields][0][last]", .label = "Last"},
         FORM_KIND_LAST_NAME},
        {{.tag = "input", .name = "input_1.3", .autocomplete = "given-name"}, FORM_KIND_FIRST_NAME},
        {{.tag = "input", .name = "input_1.6", .autocomplete = "section-x family-name"},
         FORM_KIND_LAST_NAME},
        {{.tag = "input", .type = "email", .name = "field_2"}, FORM_KIND_EMAIL},
        {{.tag = "input", .type = "tel", .name = "f3"}, FORM_KIND_PHONE},
        {{.tag = "input", .name = "lastName"}, FORM_KIND_LAST_NAME},
        {{.tag = "input", .name = "form_fields[email]"}, FORM_KIND_EMAIL},
        {{.tag = "input", .name = "x", .placeholder = "you@company.com"}, FORM_KIND_EMAIL},
        {{.tag = "input", .name = "x", .aria_label = "Your company"}, FORM_KIND_COMPANY},
        {{.tag = "textarea", .name = "field_7", .label = "How can we help?"}, FORM_KIND_MESSAGE},
        {{.tag = "textarea", .name = "field", .label = "Example Textarea"}, FORM_KIND_MESSAGE},
        {{.tag = "input", .type = "hidden", .name = "csrfmiddlewaretoken"}, FORM_KIND_HIDDEN},
        {{.tag = "input", .type = "hidden", .name = "honeypot"}, FORM_KIND_HIDDEN},
        {{.tag = "input", .type = "file", .name = "attachment"}, FORM_KIND_FILE},
        {{.tag = "input", .type = "submit", .name = "op"}, FORM_KIND_SUBMIT},
        {{.tag = "button", .name = "wpforms[submit]"}, FORM_KIND_SUBMIT},
        {{.tag = "button", .type = "button", .name = "b"}, FORM_KIND_OTHER},
        {{.tag = "select", .name = "input_4", .label = "Inquiry type"}, FORM_KIND_SELECT},
        {{.tag = "input", .type = "radio", .name = "topic"}, FORM_KIND_SELECT},
        {{.tag = "input",
          .type = "checkbox",
          .name = "acceptance-123",
          .label = "I agree to the privacy policy"},
         FORM_KIND_CONSENT},
        {{.tag = "input",
          .type = "checkbox",
          .name = "c",
          .label = "Ich habe die Datenschutzerklärung gelesen"},
         FORM_KIND_CONSENT},
        {{.tag = "input",
          .type = "checkbox",
          .name = "c",
          .label = "J'accepte la politique de confidentialité"},
         FORM_KIND_CONSENT},
        {{.tag = "input", .type = "checkbox", .name = "c", .label = "個人情報の取り扱いに同意する"},
         FORM_KIND_CONSENT},
        {{.tag = "input", .type = "checkbox", .name = "news", .label = "Send me the newsletter"},
         FORM_KIND_CHECKBOX},
        {{.tag = "textarea", .name = "g-recaptcha-response"}, FORM_KIND_CAPTCHA},
        {{.tag = "input", .name = "cq", .label = "What is 3 + 4?"}, FORM_KIND_CAPTCHA},
        {{.tag = "input", .name = "wpcf7-captchar-123"}, FORM_KIND_CAPTCHA},
        {{.tag = "input", .name = "quiz-42", .label = "Was ist 7 - 2?"}, FORM_KIND_CAPTCHA},
        {{.tag = "input", .name = "username", .label = "Username"}, FORM_KIND_OTHER},
        {{.tag = "input", .name = "street", .label = "Street"}, FORM_KIND_OTHER},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        form_kind_t k = form_classify_field(&cases[i].d);
        cr_assert_eq(k, cases[i].k, "case %zu (%s): %s, wanted %s", i,
                     cases[i].d.name ? cases[i].d.name : "", form_kind_name(k),
                     form_kind_name(cases[i].k));
    }
}

Test(form_classify, honeypots_by_css_name_label_and_tabindex)
{
    form_field_desc_t hp[] = {
        {.tag = "input", .type = "text", .name = "email", .hidden_by_css = true},
        {.tag = "input", .name = "honeypot"},
        {.tag = "input", .name = "hp"},
        {.tag = "input", .name = "wpforms[hp]"},
        {.tag = "textarea", .name = "ak_hp_textarea"},
        {.tag = "input", .name = "website_url_confirm"},
        {.tag = "input", .name = "fax_only"},
        {.tag = "input", .name = "bot-field"},
        {.tag = "input", .name = "url", .label = "Leave this field blank"},
        {.tag = "input",
         .name = "frm_verify",
         .label = "If you are human, leave this field blank."},
        {.tag = "input",
         .name = "input_99",
         .label = "This field is for validation purposes and should be left unchanged."},
        {.tag = "input", .type = "text", .name = "b_8a3f2c_91bd0e", .tabindex = -1},
        {.tag = "input",
         .type = "text",
         .name = "website",
         .label = "Website",
         .tabindex = -1,
         .autocomplete = "off"},
    };
    for (size_t i = 0; i < sizeof hp / sizeof *hp; i++)
        cr_assert_eq(form_classify_field(&hp[i]), FORM_KIND_HONEYPOT, "case %zu (%s): %s", i,
                     hp[i].name, form_kind_name(form_classify_field(&hp[i])));
    form_field_desc_t real = {
        .tag = "input", .type = "text", .name = "website", .label = "Website"};
    cr_assert_eq(form_classify_field(&real), FORM_KIND_WEBSITE);
    cr_assert_str_eq(form_kind_name(FORM_KIND_HONEYPOT), "honeypot");
    cr_assert_str_eq(form_kind_name(FORM_KIND_FIRST_NAME), "first_name");
}

/* ---- filling real builders' forms ---- */

/* The fill as "name=value&..." (file parts as name=<file>), for whole-form assertions. */
static const char *sent(const form_fill_t *f)
{
    static char b[4096];
    size_t n = 0;
    b[0] = 0;
    for (size_t i = 0; i < f->npairs; i++)
        n += (size_t)snprintf(b + n, sizeof b - n, "%s%s=%s", i ? "&" : "", f->pairs[i].name,
                              f->pairs[i].file ? "<file>" : f->pairs[i].value);
    return b;
}

static form_fill_t fill_contact(form_page_t *p, const form_sender_t *s)
{
    form_analysis_t a;
    form_page_analyze(p, &a);
    cr_assert_eq(a.verdict, FORM_VERDICT_CONTACT, "%s", a.why);
    form_fill_t f;
    cr_assert_eq(form_page_fill(p, a.form, s, SUBJECT, MESSAGE, &f), 0);
    return f;
}

static const char *CF7 =
    "<div class=\"wpcf7 js\" id=\"wpcf7-f12-p7-o1\"><form action=\"/contact/#wpcf7-f12-p7-o1\" "
    "method=\"post\" class=\"wpcf7-form init\" novalidate=\"novalidate\" data-status=\"init\">"
    "<div style=\"display: none;\"><input type=\"hidden\" name=\"_wpcf7\" value=\"12\">"
    "<input type=\"hidden\" name=\"_wpcf7_version\" value=\"5.9.3\">"
    "<input type=\"hidden\" name=\"_wpcf7_unit_tag\" value=\"wpcf7-f12-p7-o1\"></div>"
    "<p><label> Your name<br><span class=\"wpcf7-form-control-wrap\" data-name=\"your-name\">"
    "<input size=\"40\" class=\"wpcf7-form-control wpcf7-text wpcf7-validates-as-required\" "
    "aria-required=\"true\" value=\"\" type=\"text\" name=\"your-name\"></span></label></p>"
    "<p><label> Your email<br><span class=\"wpcf7-form-control-wrap\"><input size=\"40\" "
    "class=\"wpcf7-form-control wpcf7-email wpcf7-validates-as-required\" value=\"\" "
    "type=\"email\" name=\"your-email\"></span></label></p>"
    "<p><label> Subject<br><span class=\"wpcf7-form-control-wrap\"><input size=\"40\" "
    "class=\"wpcf7-form-control wpcf7-text\" value=\"\" type=\"text\" name=\"your-subject\">"
    "</span></label></p><p><label> Your message (optional)<br><span "
    "class=\"wpcf7-form-control-wrap\"><textarea cols=\"40\" rows=\"10\" "
    "class=\"wpcf7-form-control wpcf7-textarea\" name=\"your-message\"></textarea></span>"
    "</label></p><p><span class=\"wpcf7-form-control-wrap\" data-name=\"acceptance-1\"><span "
    "class=\"wpcf7-form-control wpcf7-acceptance\"><span class=\"wpcf7-list-item\"><label>"
    "<input type=\"checkbox\" name=\"acceptance-1\" value=\"1\" aria-invalid=\"false\"><span "
    "class=\"wpcf7-list-item-label\">I agree to the privacy policy</span></label></span></span>"
    "</span></p><p><input class=\"wpcf7-form-control wpcf7-submit has-spinner\" "
    "type=\"submit\" value=\"Submit\"></p><div class=\"wpcf7-response-output\" "
    "aria-hidden=\"true\"></div></form></div>";

Test(form_fill, contact_form_7)
{
    form_page_t *p = parse(CF7);
    form_fill_t f = fill_contact(p, &ADA);
    cr_assert_str_eq(f.method, "POST");
    cr_assert_str_eq(f.action, "https://www.acme.example/contact/");
    cr_assert_str_eq(f.enctype, "application/x-www-form-urlencoded");
    cr_assert_null(f.unfillable);
    cr_assert_str_eq(sent(&f), "_wpcf7=12&_wpcf7_version=5.9.3&_wpcf7_unit_tag=wpcf7-f12-p7-o1&"
                               "your-name=Ada Lovelace&your-email=ada@analytical-engines.example&"
                               "your-subject=" SUBJECT "&your-message=" MESSAGE "&acceptance-1=1");
    cr_assert_eq(f.pairs[3].kind, FORM_KIND_FULL_NAME);
    cr_assert_str_eq(f.pairs[3].label, "Your name");
    /* a page may be filled again, with another sender */
    form_sender_t bob = {.first_name = "Bob", .last_name = "Marley", .email = "bob@x.example"};
    form_fill_t g;
    cr_assert_eq(form_page_fill(p, 0, &bob, "", "Hi", &g), 0);
    cr_assert_str_eq(g.pairs[3].value, "Bob Marley");
    cr_assert_eq(form_page_fill(p, 1, &bob, "", "Hi", &g), -1);
    form_page_free(&p);
}

Test(form_fill, wpforms_first_last_honeypots_and_a_named_button)
{
    form_page_t *p = parse(
        "<div class=\"wpforms-container\" id=\"wpforms-42\"><form id=\"wpforms-form-42\" "
        "class=\"wpforms-validate wpforms-form wpforms-ajax-form\" data-formid=\"42\" "
        "method=\"post\" enctype=\"multipart/form-data\" action=\"/contact/\">"
        "<noscript class=\"wpforms-error-noscript\">Please enable JavaScript.</noscript>"
        "<div class=\"wpforms-field-container\"><div id=\"wpforms-42-field_0-container\" "
        "class=\"wpforms-field wpforms-field-name\"><label class=\"wpforms-field-label\">Name "
        "<span class=\"wpforms-required-label\">*</span></label><div class=\"wpforms-field-row\">"
        "<div class=\"wpforms-field-row-block wpforms-first\"><input type=\"text\" "
        "id=\"wpforms-42-field_0\" class=\"wpforms-field-name-first wpforms-field-required\" "
        "name=\"wpforms[fields][0][first]\" required><label for=\"wpforms-42-field_0\" "
        "class=\"wpforms-field-sublabel after\">First</label></div><div "
        "class=\"wpforms-field-row-block\"><input type=\"text\" id=\"wpforms-42-field_0-last\" "
        "class=\"wpforms-field-name-last wpforms-field-required\" "
        "name=\"wpforms[fields][0][last]\" required><label for=\"wpforms-42-field_0-last\" "
        "class=\"wpforms-field-sublabel after\">Last</label></div></div></div>"
        "<div id=\"wpforms-42-field_1-container\" class=\"wpforms-field wpforms-field-email\">"
        "<label class=\"wpforms-field-label\" for=\"wpforms-42-field_1\">Email <span "
        "class=\"wpforms-required-label\">*</span></label><input type=\"email\" "
        "id=\"wpforms-42-field_1\" class=\"wpforms-field-medium wpforms-field-required\" "
        "name=\"wpforms[fields][1]\" required></div>"
        "<div id=\"wpforms-42-field_2-container\" class=\"wpforms-field wpforms-field-textarea\">"
        "<label class=\"wpforms-field-label\" for=\"wpforms-42-field_2\">Comment or Message"
        "</label><textarea id=\"wpforms-42-field_2\" class=\"wpforms-field-medium\" "
        "name=\"wpforms[fields][2]\"></textarea></div>"
        "<div id=\"wpforms-42-field_3-container\" class=\"wpforms-field wpforms-field-text\" "
        "style=\"position: absolute !important; overflow: hidden !important; display: inline "
        "!important; height: 1px !important; width: 1px !important; z-index: -1000 !important; "
        "padding: 0 !important;\"><label class=\"wpforms-field-label\" "
        "for=\"wpforms-42-field_3\">Website</label><input type=\"text\" id=\"wpforms-42-field_3\" "
        "class=\"wpforms-field-medium\" name=\"wpforms[fields][3]\"></div></div>"
        "<div class=\"wpforms-field wpforms-field-hp\"><label for=\"wpforms-42-field-hp\" "
        "class=\"wpforms-field-label\">Message</label><input type=\"text\" name=\"wpforms[hp]\" "
        "id=\"wpforms-42-field-hp\" class=\"wpforms-field-medium\"></div>"
        "<div class=\"wpforms-submit-container\"><input type=\"hidden\" name=\"wpforms[id]\" "
        "value=\"42\"><input type=\"hidden\" name=\"page_url\" "
        "value=\"https://www.acme.example/contact/\"><button type=\"submit\" "
        "name=\"wpforms[submit]\" id=\"wpforms-submit-42\" class=\"wpforms-submit\" "
        "value=\"wpforms-submit\">Submit</button></div></form></div>");
    form_fill_t f = fill_contact(p, &ADA);
    cr_assert_str_eq(f.enctype, "multipart/form-data");
    cr_assert_null(f.unfillable, "%s", f.unfillable);
    cr_assert_str_eq(sent(&f), "wpforms[fields][0][first]=Ada&wpforms[fields][0][last]=Lovelace&"
                               "wpforms[fields][1]=ada@analytical-engines.example&"
                               "wpforms[fields][2]=" MESSAGE "&wpforms[fields][3]=&wpforms[hp]=&"
                               "wpforms[id]=42&page_url=https://www.acme.example/contact/&"
                               "wpforms[submit]=wpforms-submit");
    cr_assert_eq(f.pairs[4].kind, FORM_KIND_HONEYPOT);
    cr_assert_eq(f.pairs[5].kind, FORM_KIND_HONEYPOT);
    form_page_free(&p);
}

static const char *GRAVITY =
    "<div class=\"gform_wrapper gravity-theme\" id=\"gform_wrapper_1\"><form method=\"post\" "
    "enctype=\"multipart/form-data\" id=\"gform_1\" action=\"/contact/\" novalidate>"
    "<div class=\"gform-body gform_body\"><div id=\"gform_fields_1\" class=\"gform_fields\">"
    "<fieldset id=\"field_1_1\" class=\"gfield gfield--type-name gfield_contains_required\">"
    "<legend class=\"gfield_label\">Name<span class=\"gfield_required\"><span "
    "class=\"gfield_required gfield_required_text\">(Required)</span></span></legend>"
    "<div class=\"ginput_complex ginput_container\" id=\"input_1_1\"><span "
    "id=\"input_1_1_3_container\" class=\"name_first\"><input type=\"text\" name=\"input_1.3\" "
    "id=\"input_1_1_3\" value=\"\" aria-required=\"true\" autocomplete=\"given-name\"><label "
    "for=\"input_1_1_3\">First</label></span><span id=\"input_1_1_6_container\" "
    "class=\"name_last\"><input type=\"text\" name=\"input_1.6\" id=\"input_1_1_6\" value=\"\" "
    "aria-required=\"true\" autocomplete=\"family-name\"><label for=\"input_1_1_6\">Last"
    "</label></span></div></fieldset>"
    "<div id=\"field_1_2\" class=\"gfield gfield--type-email gfield_contains_required\"><label "
    "class=\"gfield_label\" for=\"input_1_2\">Email<span class=\"gfield_required\"><span "
    "class=\"gfield_required gfield_required_text\">(Required)</span></span></label><div "
    "class=\"ginput_container ginput_container_email\"><input name=\"input_2\" id=\"input_1_2\" "
    "type=\"email\" value=\"\" class=\"large\" aria-required=\"true\" aria-invalid=\"false\">"
    "</div></div>"
    "<div id=\"field_1_4\" class=\"gfield gfield--type-select\"><label class=\"gfield_label\" "
    "for=\"input_1_4\">Inquiry type</label><div class=\"ginput_container\"><select "
    "name=\"input_4\" id=\"input_1_4\" class=\"large gfield_select\"><option value=\"\" "
    "selected=\"selected\" class=\"gf_placeholder\">Please choose</option><option "
    "value=\"Support\">Support</option><option value=\"Sales\">Sales</option><option "
    "value=\"Press\">Press</option></select></div></div>"
    "<div id=\"field_1_3\" class=\"gfield gfield--type-textarea gfield_contains_required\">"
    "<label class=\"gfield_label\" for=\"input_1_3\">Message<span class=\"gfield_required\">*"
    "</span></label><div class=\"ginput_container ginput_container_textarea\"><textarea "
    "name=\"input_3\" id=\"input_1_3\" class=\"textarea large\" aria-required=\"true\" "
    "rows=\"10\" cols=\"50\"></textarea></div></div>"
    "<fieldset id=\"field_1_5\" class=\"gfield gfield--type-consent gfield_contains_required\">"
    "<legend class=\"gfield_label\">Consent</legend><div class=\"ginput_container "
    "ginput_container_consent\"><input name=\"input_5.1\" id=\"input_1_5_1\" type=\"checkbox\" "
    "value=\"1\" aria-required=\"true\"><label class=\"gfield_consent_label\" "
    "for=\"input_1_5_1\">I agree to the privacy policy.</label><input type=\"hidden\" "
    "name=\"input_5.2\" value=\"I agree to the privacy policy.\" class=\"gform_hidden\"><input "
    "type=\"hidden\" name=\"input_5.3\" value=\"1\" class=\"gform_hidden\"></div></fieldset>"
    "<div id=\"field_1_99\" class=\"gfield gfield--type-honeypot gform_validation_container\">"
    "<label class=\"gfield_label\" for=\"input_1_99\">Phone</label><div "
    "class=\"ginput_container\"><input name=\"input_99\" id=\"input_1_99\" type=\"text\" "
    "value=\"\" autocomplete=\"new-password\"></div><div class=\"gfield_description\">This field "
    "is for validation purposes and should be left unchanged.</div></div>"
    "</div></div><div class=\"gform_footer top_label\"><input type=\"submit\" "
    "id=\"gform_submit_button_1\" class=\"gform_button button\" value=\"Submit\"><input "
    "type=\"hidden\" class=\"gform_hidden\" name=\"is_submit_1\" value=\"1\"><input "
    "type=\"hidden\" class=\"gform_hidden\" name=\"gform_submit\" value=\"1\"><input "
    "type=\"hidden\" name=\"state_1\" value=\"WyJbXSIsIjZk\"></div></form></div>";

Test(form_fill, gravity_forms_select_consent_and_validation_container)
{
    form_page_t *p = parse(GRAVITY);
    form_fill_t f = fill_contact(p, &ADA);
    cr_assert_null(f.unfillable, "%s", f.unfillable);
    cr_assert_str_eq(sent(&f), "input_1.3=Ada&input_1.6=Lovelace&"
                               "input_2=ada@analytical-engines.example&input_4=Sales&"
                               "input_3=" MESSAGE "&input_5.1=1&"
                               "input_5.2=I agree to the privacy policy.&input_5.3=1&input_99=&"
                               "is_submit_1=1&gform_submit=1&state_1=WyJbXSIsIjZk");
    form_page_free(&p);
}

Test(form_fill, elementor_webflow_and_drupal)
{
    form_page_t *p = parse(
        "<form class=\"elementor-form\" method=\"post\" name=\"New Form\"><input type=\"hidden\" "
        "name=\"post_id\" value=\"12\"><input type=\"hidden\" name=\"form_id\" value=\"3f2a1b\">"
        "<div class=\"elementor-form-fields-wrapper elementor-labels-above\"><div "
        "class=\"elementor-field-type-text elementor-field-group\"><label for=\"form-field-name\" "
        "class=\"elementor-field-label\">Name</label><input size=\"1\" type=\"text\" "
        "name=\"form_fields[name]\" id=\"form-field-name\" class=\"elementor-field\" "
        "placeholder=\"Name\"></div><div class=\"elementor-field-type-email "
        "elementor-field-group elementor-field-required\"><label for=\"form-field-email\">Email"
        "</label><input size=\"1\" type=\"email\" name=\"form_fields[email]\" "
        "id=\"form-field-email\" required=\"required\" aria-required=\"true\"></div><div "
        "class=\"elementor-field-type-textarea elementor-field-group\"><label "
        "for=\"form-field-message\">Message</label><textarea name=\"form_fields[message]\" "
        "id=\"form-field-message\" rows=\"4\" placeholder=\"Message\"></textarea></div><div "
        "class=\"elementor-field-type-honeypot elementor-field-group\"><input size=\"1\" "
        "type=\"text\" name=\"form_fields[field_8c1d2e1]\" id=\"form-field-field_8c1d2e1\" "
        "class=\"elementor-field\" style=\"display:none !important;\"></div><div "
        "class=\"elementor-field-group elementor-field-type-submit\"><button type=\"submit\" "
        "class=\"elementor-button\"><span class=\"elementor-button-text\">Send</span></button>"
        "</div></div></form>");
    form_fill_t f = fill_contact(p, &ADA);
    cr_assert_str_eq(sent(&f), "post_id=12&form_id=3f2a1b&form_fields[name]=Ada Lovelace&"
                               "form_fields[email]=ada@analytical-engines.example&"
                               "form_fields[message]=" MESSAGE "&form_fields[field_8c1d2e1]=");
    cr_assert_str_eq(f.action, URL);
    form_page_free(&p);

    p = parse("<div class=\"w-form\"><form id=\"email-form\" name=\"email-form\" "
              "data-name=\"Email Form\" method=\"get\" class=\"form\"><label for=\"name\">Name"
              "</label><input class=\"w-input\" maxlength=\"5\" name=\"name\" type=\"text\" "
              "id=\"name\"><label for=\"email\">Email Address</label><input class=\"w-input\" "
              "maxlength=\"256\" name=\"email\" type=\"email\" id=\"email\" required=\"\">"
              "<label for=\"field\">Example Textarea</label><textarea placeholder=\"Example "
              "Text\" maxlength=\"5000\" id=\"field\" name=\"field\" class=\"w-input\"></textarea>"
              "<input type=\"submit\" data-wait=\"Please wait...\" class=\"w-button\" "
              "value=\"Submit\"></form><div class=\"w-form-done\"><div>Thank you! Your "
              "submission has been received!</div></div><div class=\"w-form-fail\"><div>Oops! "
              "Something went wrong.</div></div></div>");
    f = fill_contact(p, &ADA);
    cr_assert_str_eq(f.method, "GET");
    cr_assert_str_eq(sent(&f), "name=Ada L&email=ada@analytical-engines.example&field=" MESSAGE);
    cr_assert_null(strstr(form_page_text(p), "Thank you"), "%s", form_page_text(p));
    form_page_free(&p);

    p = parse("<form class=\"webform-submission-form\" action=\"/contact\" method=\"post\" "
              "id=\"webform-submission-contact-add-form\" accept-charset=\"UTF-8\"><div "
              "class=\"js-form-item form-item\"><label for=\"edit-name\" class=\"js-form-required "
              "form-required\">Your Name</label><input type=\"text\" id=\"edit-name\" "
              "name=\"name\" value=\"\" class=\"form-text required\" required=\"required\" "
              "aria-required=\"true\"></div><div class=\"js-form-item form-item\"><label "
              "for=\"edit-email\">Your Email</label><input type=\"email\" id=\"edit-email\" "
              "name=\"email\" required=\"required\"></div><div class=\"js-form-item\"><label "
              "for=\"edit-subject\">Subject</label><input type=\"text\" id=\"edit-subject\" "
              "name=\"subject\" required=\"required\"></div><div class=\"js-form-item\"><label "
              "for=\"edit-message\">Message</label><div class=\"form-textarea-wrapper\"><textarea "
              "id=\"edit-message\" name=\"message\" rows=\"5\" required=\"required\"></textarea>"
              "</div></div><div class=\"form-actions\"><input class=\"button js-form-submit "
              "form-submit\" type=\"submit\" id=\"edit-actions-submit\" name=\"op\" "
              "value=\"Send message\"></div><input autocomplete=\"off\" type=\"hidden\" "
              "name=\"form_build_id\" value=\"form-TcirXd\"><input type=\"hidden\" "
              "name=\"form_id\" value=\"webform_submission_contact_add_form\"><div "
              "class=\"url-textfield js-form-wrapper form-wrapper\" style=\"display: none "
              "!important;\"><div class=\"js-form-item form-item\"><label for=\"edit-url\">Leave "
              "this field blank</label><input autocomplete=\"off\" type=\"text\" id=\"edit-url\" "
              "name=\"url\" value=\"\" size=\"20\" maxlength=\"128\" class=\"form-text\"></div>"
              "</div></form>");
    f = fill_contact(p, &ADA);
    cr_assert_str_eq(f.action, "https://www.acme.example/contact");
    cr_assert_str_eq(sent(&f), "name=Ada Lovelace&email=ada@analytical-engines.example&"
                               "subject=" SUBJECT "&message=" MESSAGE "&op=Send message&"
                               "form_build_id=form-TcirXd&"
                               "form_id=webform_submission_contact_add_form&url=");
    form_page_free(&p);
}

Test(form_fill, required_fields_we_cannot_fill_are_named_not_guessed)
{
    const char *forms[][2] = {
        {"<label for=c>Country *</label><select id=c name=country required><option value=\"\">"
         "Choose</option><option value=\"fr\">France</option><option value=\"de\">Germany</option>"
         "</select>",
         "Country *"},
        {"<label>Street address <input name=street required></label>", "Street address"},
        {"<label>フリガナ（必須）<input name=kana></label>", "フリガナ（必須）"},
        {"<label>Your CV <input type=file name=cv required></label>", "Your CV"},
        {"<label><input type=checkbox name=age required> I am over 18</label>", "I am over 18"},
    };
    for (size_t i = 0; i < sizeof forms / sizeof *forms; i++) {
        char html[2048];
        snprintf(html, sizeof html,
                 "<form method=post><label>Email <input type=email name=email></label>%s"
                 "<label>Message <textarea name=msg></textarea></label></form>",
                 forms[i][0]);
        form_page_t *p = parse(html);
        form_fill_t f = fill_contact(p, &ADA);
        cr_assert_not_null(f.unfillable, "form %zu", i);
        cr_assert_str_eq(f.unfillable, forms[i][1], "form %zu", i);
        form_page_free(&p);
    }
    /* a required phone the sender lacks */
    form_page_t *p = parse("<form method=post><input type=email name=email><label>Phone* <input "
                           "name=phone></label><textarea name=message></textarea></form>");
    form_sender_t s = {.name = "Ada Lovelace", .email = "ada@analytical-engines.example"};
    form_fill_t f = fill_contact(p, &s);
    cr_assert_str_eq(f.unfillable, "Phone*");
    form_page_free(&p);
}

Test(form_fill, full_name_split_radio_groups_and_select_in_other_languages)
{
    form_page_t *p = parse(
        "<form method=post action=\"https://www.acme.example/kontakt/senden\">"
        "<label>Vorname <input name=vn required></label><label>Name <input name=nn required>"
        "</label><label>E-Mail <input name=mail required></label>"
        "<fieldset><legend>Ihr Anliegen</legend><label><input type=radio name=topic "
        "value=support> Support</label><label><input type=radio name=topic value=vertrieb> "
        "Vertrieb / Kooperation</label><label><input type=radio name=topic value=sonst checked> "
        "Sonstiges</label></fieldset><label>Bereich <select name=area><option value=\"\">Bitte "
        "wählen</option><option>Presse</option><option>Allgemeine Anfrage</option></select>"
        "</label><label>Nachricht <textarea name=text></textarea></label>"
        "<label><input type=checkbox name=dsgvo value=ja> Ich stimme der "
        "Datenschutzerklärung zu.</label><label><input type=checkbox name=nl value=1> "
        "Newsletter abonnieren</label><button name=send value=1>Senden</button></form>");
    form_fill_t f = fill_contact(p, &ADA);
    cr_assert_null(f.unfillable);
    cr_assert_str_eq(sent(&f),
                     "vn=Ada&nn=Lovelace&mail=ada@analytical-engines.example&"
                     "topic=vertrieb&area=Allgemeine Anfrage&text=" MESSAGE "&dsgvo=ja&send=1");
    form_page_free(&p);
}

Test(form_fill, japanese_form_in_a_table)
{
    form_page_t *p = parse("<form method=post action=confirm.php><table><tr><th>会社名</th><td>"
                           "<input name=company></td></tr><tr><th><label for=n>お名前</label>"
                           "</th><td><input id=n name=onamae></td></tr><tr><th><label "
                           "for=m>メールアドレス</label></th><td><input id=m name=mail></td></tr>"
                           "<tr><th><label for=t>お問い合わせ内容</label></th><td><textarea "
                           "id=t name=naiyou></textarea></td></tr></table><input type=submit "
                           "name=submit value=確認></form>");
    form_fill_t f = fill_contact(p, &ADA);
    cr_assert_str_eq(f.action, "https://www.acme.example/contact/confirm.php");
    cr_assert_str_eq(
        sent(&f),
        "company=Analytical Engines Ltd&onamae=Ada Lovelace&mail=ada@analytical-engines.example&"
        "naiyou=" MESSAGE "&submit=確認");
    form_page_free(&p);
}

Test(form_fill, defaults_get_and_the_page_url_files_go_empty_disabled_fields_stay_home)
{
    form_page_t *p = parse("<form><input type=hidden name=token value=\"a b&c\"><input "
                           "name=email type=email><input name=old disabled value=x><textarea "
                           "name=message>Write here</textarea><input type=file name=cv><input "
                           "type=reset name=r><input type=image name=go src=go.png></form>");
    form_fill_t f = fill_contact(p, &ADA);
    cr_assert_str_eq(f.method, "GET");
    cr_assert_str_eq(f.action, URL);
    cr_assert_null(f.unfillable);
    cr_assert_str_eq(sent(&f), "token=a b&c&email=ada@analytical-engines.example&"
                               "message=" MESSAGE "&cv=<file>&go.x=1&go.y=1");
    cr_assert(f.pairs[3].file);
    cr_assert_eq(f.pairs[3].kind, FORM_KIND_FILE);
    cr_assert_str_eq(f.pairs[3].value, "");
    form_page_free(&p);
}

Test(form_fill, a_table_cell_before_a_field_names_it_when_nothing_else_does)
{
    form_page_t *p = parse("<form method=post action=send.php><p>下記フォームよりお問い合わせくだ"
                           "さい。</p><table><tr><th>会社名</th><td><input name=item01></td></tr>"
                           "<tr><th>お名前<span class=req>必須</span></th><td><input "
                           "name=item02></td></tr><tr><th>フリガナ</th><td><input name=item03>"
                           "</td></tr><tr><th>メールアドレス<span>必須</span></th><td><input "
                           "name=item04></td></tr><tr><th>お問い合わせ内容</th><td><textarea "
                           "name=item05></textarea></td></tr></table><p>7 + 2 = <input "
                           "name=item06 size=2></p><input type=submit value=送信></form>");
    form_analysis_t a;
    form_page_analyze(p, &a);
    cr_assert_str_eq(a.captcha, "math", "%s", a.captcha ? a.captcha : "none");
    form_fill_t f = fill_contact(p, &ADA);
    cr_assert_null(f.unfillable, "%s", f.unfillable);
    cr_assert_str_eq(sent(&f), "item01=Analytical Engines Ltd&item02=Ada Lovelace&item03=&"
                               "item04=ada@analytical-engines.example&item05=" MESSAGE "&item06=");
    cr_assert_eq(f.pairs[1].kind, FORM_KIND_FULL_NAME);
    cr_assert_str_eq(f.pairs[1].label, "お名前必須");
    cr_assert_eq(f.pairs[5].kind, FORM_KIND_CAPTCHA);
    form_page_free(&p);
}

/* ---- judging the answer ---- */

static const char *DJANGO =
    "<form method=\"post\" action=\"/contact/\"><input type=\"hidden\" "
    "name=\"csrfmiddlewaretoken\" value=\"tok\"><p><label for=\"id_name\">Name:</label><input "
    "type=\"text\" name=\"name\" required id=\"id_name\"></p><p><label for=\"id_email\">Email:"
    "</label><input type=\"email\" name=\"email\" required id=\"id_email\"></p>%s<p><label "
    "for=\"id_message\">Message:</label><textarea name=\"message\" required id=\"id_message\">"
    "</textarea></p><button type=\"submit\">Send</button></form><footer>Thank you for visiting"
    "</footer>";

static form_judgement_t judge(form_page_t *sent_page, const char *answer, long status,
                              const char *final_url, form_page_t **ans)
{
    *ans = answer ? parse(answer) : NULL;
    form_judgement_t j;
    form_page_judge(sent_page, 0, *ans, status, final_url, &j);
    return j;
}

Test(form_judge, thanks_in_the_answer_or_its_address)
{
    char html[4096];
    snprintf(html, sizeof html, DJANGO, "");
    form_page_t *s = parse(html), *a;
    form_judgement_t j = judge(s, "<h1>Thanks!</h1><p>We'll be in touch.</p>", 200,
                               "https://www.acme.example/contact/thanks/", &a);
    cr_assert_eq(j.verdict, FORM_JUDGE_SUCCESS, "%s", j.why);
    form_page_free(&a);
    const char *answers[] = {
        "<div class=\"wpcf7-response-output\" aria-hidden=\"true\">Thank you for your message. It "
        "has been sent.</div>",
        "<p>Vielen Dank für Ihre Nachricht!</p>",
        "<p>Merci, votre message a été envoyé.</p>",
        "<p>¡Gracias! Mensaje enviado.</p>",
        "<p>Grazie, messaggio inviato.</p>",
        "<p>Bedankt voor uw bericht.</p>",
        "<p>Obrigado pelo contato.</p>",
        "<p>お問い合わせありがとうございました。</p>",
        "<p>送信しました。</p>",
    };
    for (size_t i = 0; i < sizeof answers / sizeof *answers; i++) {
        char page[4096];
        snprintf(page, sizeof page,
                 "<nav><a href=/>Home</a></nav>%s<footer>Thank you for "
                 "visiting</footer>",
                 answers[i]);
        j = judge(s, page, 200, URL, &a);
        cr_assert_eq(j.verdict, FORM_JUDGE_SUCCESS, "answer %zu: %s", i, j.why);
        cr_assert(strlen(j.excerpt) <= 300 && *j.excerpt, "answer %zu", i);
        form_page_free(&a);
    }
    j = judge(s, NULL, 200, "https://www.acme.example/danke", &a);
    cr_assert_eq(j.verdict, FORM_JUDGE_SUCCESS, "%s", j.why);
    j = judge(s, "<p>Your note is on its way to our team.</p>", 200, URL, &a);
    cr_assert_eq(j.verdict, FORM_JUDGE_SUCCESS, "%s", j.why);
    cr_assert_str_eq(j.why, "the form was replaced by a message");
    form_page_free(&a);
    form_page_free(&s);
}

Test(form_judge, validation_errors_are_recorded)
{
    char html[4096], again[4096];
    snprintf(html, sizeof html, DJANGO, "");
    form_page_t *s = parse(html), *a;
    snprintf(again, sizeof again, DJANGO,
             "<ul class=\"errorlist\"><li>Enter a valid email address.</li></ul>");
    form_judgement_t j = judge(s, again, 200, URL, &a);
    cr_assert_eq(j.verdict, FORM_JUDGE_FAILED, "%s", j.why);
    cr_assert_eq(j.nerrors, 1);
    cr_assert_str_eq(j.errors[0], "Enter a valid email address.");
    form_page_free(&a);

    j = judge(s,
              "<div class=\"gform_validation_errors\" id=\"gform_1_validation_container\" "
              "role=\"alert\"><h2 class=\"gform_submission_error\">There was a problem with "
              "your submission. Please review the fields below.</h2></div><form><div "
              "class=\"gfield gfield_error\"><input name=input_2 aria-invalid=\"true\"><div "
              "class=\"gfield_description validation_message gfield_validation_message\">This "
              "field is required.</div></div></form>",
              200, URL, &a);
    cr_assert_eq(j.verdict, FORM_JUDGE_FAILED, "%s", j.why);
    cr_assert_eq(j.nerrors, 2);
    cr_assert(strstr(j.errors[0], "There was a problem"), "%s", j.errors[0]);
    cr_assert_str_eq(j.errors[1], "This field is required.");
    form_page_free(&a);

    j = judge(s,
              "<form><span class=\"wpcf7-form-control-wrap\"><input name=your-email "
              "aria-invalid=\"true\"><span class=\"wpcf7-not-valid-tip\" aria-hidden=\"true\">"
              "Please fill out this field.</span></span></form>",
              200, URL, &a);
    cr_assert_eq(j.verdict, FORM_JUDGE_FAILED);
    cr_assert_str_eq(j.errors[0], "Please fill out this field.");
    form_page_free(&a);
    form_page_free(&s);
}

Test(form_judge, rails_scaffold_errors_and_its_form)
{
    const char *form =
        "<form action=\"/messages\" accept-charset=\"UTF-8\" method=\"post\"><input "
        "type=\"hidden\" name=\"authenticity_token\" value=\"Zx9=\" autocomplete=\"off\">%s"
        "<div class=\"field\">%s<label for=\"message_name\">Name</label>%s<input "
        "type=\"text\" name=\"message[name]\" id=\"message_name\"></div><div "
        "class=\"field\"><label for=\"message_email\">Email</label><input type=\"email\" "
        "name=\"message[email]\" id=\"message_email\"></div><div class=\"field\"><label "
        "for=\"message_body\">Body</label><textarea name=\"message[body]\" "
        "id=\"message_body\"></textarea></div><input type=\"submit\" name=\"commit\" "
        "value=\"Send\" data-disable-with=\"Send\"></form>";
    char html[4096];
    snprintf(html, sizeof html, form, "", "", "");
    form_page_t *s = parse(html), *a;
    form_fill_t f = fill_contact(s, &ADA);
    cr_assert_str_eq(sent(&f), "authenticity_token=Zx9=&message[name]=Ada Lovelace&"
                               "message[email]=ada@analytical-engines.example&"
                               "message[body]=" MESSAGE "&commit=Send");
    snprintf(html, sizeof html, form,
             "<div id=\"error_explanation\"><h2>1 error prohibited this message from being "
             "saved:</h2><ul><li>Name can't be blank</li></ul></div>",
             "<div class=\"field_with_errors\">", "</div>");
    form_judgement_t j = judge(s, html, 422, "https://www.acme.example/messages", &a);
    cr_assert_eq(j.verdict, FORM_JUDGE_FAILED, "%s", j.why);
    cr_assert(strstr(j.errors[0], "Name can't be blank"), "%s", j.errors[0]);
    form_page_free(&a);
    form_page_free(&s);
}

Test(form_judge, uncertain_when_nothing_changed_or_the_server_failed)
{
    /* Bootstrap's feedback text and Webflow's hidden thanks are on every copy of the page */
    const char *page = "<form method=post><input type=email name=email class=\"form-control\">"
                       "<div class=\"invalid-feedback\">Please enter your email.</div>"
                       "<textarea name=message></textarea></form><div class=\"w-form-done\">"
                       "Thank you! Your submission has been received!</div>";
    form_page_t *s = parse(page), *a;
    form_judgement_t j = judge(s, page, 200, URL, &a);
    cr_assert_eq(j.verdict, FORM_JUDGE_UNCERTAIN, "%s", j.why);
    cr_assert_eq(j.nerrors, 0);
    form_page_free(&a);
    j = judge(s, "<h1>Internal Server Error</h1>", 500, URL, &a);
    cr_assert_eq(j.verdict, FORM_JUDGE_UNCERTAIN);
    cr_assert_str_eq(j.why, "the answer was HTTP 500");
    form_page_free(&a);
    j = judge(s, NULL, 204, URL, &a);
    cr_assert_eq(j.verdict, FORM_JUDGE_UNCERTAIN);
    form_page_free(&s);
}

Test(form_judge, a_thank_you_block_the_answer_shows_is_success)
{
    /* Webflow's answer: the stylesheet hides .w-form-done, the answer's inline style shows it and
     * hides the form */
    const char *page = "<style>.w-form-done{display:none}</style><form method=get>"
                       "<input type=email name=Email><textarea name=Message></textarea></form>"
                       "<div class=\"w-form-done\">Thank you! Your submission has been received!"
                       "</div>";
    const char *answer = "<style>.w-form-done{display:none}</style><form method=get "
                         "style=\"display:none\"><input type=email name=Email>"
                         "<textarea name=Message></textarea></form><div class=\"w-form-done\" "
                         "style=\"display: block\">Thank you! Your submission has been received!"
                         "</div>";
    form_page_t *s = parse(page), *a;
    form_judgement_t j = judge(s, answer, 200, URL, &a);
    cr_assert_eq(j.verdict, FORM_JUDGE_SUCCESS, "%s", j.why);
    form_page_free(&a);
    form_page_free(&s);
}
