/* What each field is for (form_classify_field), and the form filled as a careful person would. */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "form_page_int.h"
#include "pa_buf.h"

static const char *const kind_names[] = {
    "other",   "first_name", "last_name", "full_name", "email",   "phone",    "company",
    "website", "job_title",  "subject",   "message",   "consent", "checkbox", "select",
    "file",    "hidden",     "honeypot",  "submit",    "captcha",
};

const char *form_kind_name(form_kind_t k)
{
    return (unsigned)k < sizeof kind_names / sizeof *kind_names ? kind_names[k] : "other";
}

/* ---- words ---- */

/* Internal kinds: a word that says "not one of ours" (username, fax...) or a trap. */
#define K_NONE ((form_kind_t)100)

typedef struct {
    form_kind_t kind;
    const char *kw; /* folded, words; "~x": x as a whole word; "=x": the whole text is x */
} rule_t;

/* In order: the first rule that matches a text decides it. Specific before general (company
 * name before name, last name before name, e-mail before everything that contains "mail"). */
static const rule_t rules[] = {
    /* CAPTCHA fields */
    {FORM_KIND_CAPTCHA, "captcha"},
    {FORM_KIND_CAPTCHA, "recaptcha"},
    {FORM_KIND_CAPTCHA, "turnstile response"},
    {FORM_KIND_CAPTCHA, "frc captcha"},
    {FORM_KIND_CAPTCHA, "security code"},
    {FORM_KIND_CAPTCHA, "sicherheitscode"},
    {FORM_KIND_CAPTCHA, "code de sécurité"},
    {FORM_KIND_CAPTCHA, "código de seguridad"},
    {FORM_KIND_CAPTCHA, "~quiz"},
    {FORM_KIND_CAPTCHA, "~math"},
    {FORM_KIND_CAPTCHA, "antispam"},
    {FORM_KIND_CAPTCHA, "anti spam"},
    {FORM_KIND_CAPTCHA, "spam check"},
    {FORM_KIND_CAPTCHA, "spamschutz"},
    {FORM_KIND_CAPTCHA, "画像認証"},
    /* traps */
    {FORM_KIND_HONEYPOT, "honeypot"},
    {FORM_KIND_HONEYPOT, "~hpot"},
    {FORM_KIND_HONEYPOT, "~hp"},
    {FORM_KIND_HONEYPOT, "~bot field"},
    {FORM_KIND_HONEYPOT, "fax only"},
    {FORM_KIND_HONEYPOT, "url confirm"},
    {FORM_KIND_HONEYPOT, "leave this field blank"},
    {FORM_KIND_HONEYPOT, "leave this field empty"},
    {FORM_KIND_HONEYPOT, "leave blank"},
    {FORM_KIND_HONEYPOT, "leave empty"},
    {FORM_KIND_HONEYPOT, "left unchanged"},
    {FORM_KIND_HONEYPOT, "if you are human"},
    {FORM_KIND_HONEYPOT, "if you're human"},
    {FORM_KIND_HONEYPOT, "do not fill"},
    {FORM_KIND_HONEYPOT, "don't fill"},
    {FORM_KIND_HONEYPOT, "dont fill"},
    {FORM_KIND_HONEYPOT, "nicht ausfüllen"},
    {FORM_KIND_HONEYPOT, "ne pas remplir"},
    {FORM_KIND_HONEYPOT, "no rellenar"},
    {FORM_KIND_HONEYPOT, "frm verify"},
    /* not ours */
    {K_NONE, "username"},
    {K_NONE, "user name"},
    {K_NONE, "benutzername"},
    {K_NONE, "file name"},
    {K_NONE, "filename"},
    {K_NONE, "street"},
    {K_NONE, "straße"},
    {K_NONE, "postcode"},
    {K_NONE, "zip"},
    {K_NONE, "furigana"},
    {K_NONE, "フリガナ"},
    {K_NONE, "ふりがな"},
    {K_NONE, "カナ"},
    {K_NONE, "かな"},
    {K_NONE, "部署"},
    /* subject */
    {FORM_KIND_SUBJECT, "subject"},
    {FORM_KIND_SUBJECT, "betreff"},
    {FORM_KIND_SUBJECT, "~objet"},
    {FORM_KIND_SUBJECT, "~sujet"},
    {FORM_KIND_SUBJECT, "asunto"},
    {FORM_KIND_SUBJECT, "oggetto"},
    {FORM_KIND_SUBJECT, "onderwerp"},
    {FORM_KIND_SUBJECT, "assunto"},
    {FORM_KIND_SUBJECT, "件名"},
    {FORM_KIND_SUBJECT, "ご用件"},
    {FORM_KIND_SUBJECT, "主题"},
    {FORM_KIND_SUBJECT, "~тема"},
    {FORM_KIND_SUBJECT, "~topic"},
    {FORM_KIND_SUBJECT, "regarding"},
    /* e-mail */
    {FORM_KIND_EMAIL, "email"},
    {FORM_KIND_EMAIL, "e mail"},
    {FORM_KIND_EMAIL, "~mail"},
    {FORM_KIND_EMAIL, "courriel"},
    {FORM_KIND_EMAIL, "correo"},
    {FORM_KIND_EMAIL, "posta elettronica"},
    {FORM_KIND_EMAIL, "メール"},
    {FORM_KIND_EMAIL, "邮箱"},
    {FORM_KIND_EMAIL, "邮件"},
    {FORM_KIND_EMAIL, "郵件"},
    {FORM_KIND_EMAIL, "почта"},
    /* phone */
    {FORM_KIND_PHONE, "phone"},
    {FORM_KIND_PHONE, "~tel"},
    {FORM_KIND_PHONE, "telefon"},
    {FORM_KIND_PHONE, "téléphone"},
    {FORM_KIND_PHONE, "teléfono"},
    {FORM_KIND_PHONE, "telefono"},
    {FORM_KIND_PHONE, "telefone"},
    {FORM_KIND_PHONE, "telefoon"},
    {FORM_KIND_PHONE, "~tél"},
    {FORM_KIND_PHONE, "mobile"},
    {FORM_KIND_PHONE, "~mobil"},
    {FORM_KIND_PHONE, "~handy"},
    {FORM_KIND_PHONE, "móvil"},
    {FORM_KIND_PHONE, "cellulare"},
    {FORM_KIND_PHONE, "celular"},
    {FORM_KIND_PHONE, "telemóvel"},
    {FORM_KIND_PHONE, "rufnummer"},
    {FORM_KIND_PHONE, "電話"},
    {FORM_KIND_PHONE, "电话"},
    {FORM_KIND_PHONE, "携帯"},
    {FORM_KIND_PHONE, "телефон"},
    /* website (before company: "company website") */
    {FORM_KIND_WEBSITE, "website"},
    {FORM_KIND_WEBSITE, "web site"},
    {FORM_KIND_WEBSITE, "~url"},
    {FORM_KIND_WEBSITE, "~www"},
    {FORM_KIND_WEBSITE, "homepage"},
    {FORM_KIND_WEBSITE, "home page"},
    {FORM_KIND_WEBSITE, "site web"},
    {FORM_KIND_WEBSITE, "site internet"},
    {FORM_KIND_WEBSITE, "sitio web"},
    {FORM_KIND_WEBSITE, "página web"},
    {FORM_KIND_WEBSITE, "pagina web"},
    {FORM_KIND_WEBSITE, "sito web"},
    {FORM_KIND_WEBSITE, "sito internet"},
    {FORM_KIND_WEBSITE, "webseite"},
    {FORM_KIND_WEBSITE, "internetseite"},
    {FORM_KIND_WEBSITE, "internetadresse"},
    {FORM_KIND_WEBSITE, "ホームページ"},
    {FORM_KIND_WEBSITE, "ウェブサイト"},
    {FORM_KIND_WEBSITE, "网站"},
    {FORM_KIND_WEBSITE, "~сайт"},
    {FORM_KIND_WEBSITE, "=site"},
    /* company */
    {FORM_KIND_COMPANY, "company"},
    {FORM_KIND_COMPANY, "organization"},
    {FORM_KIND_COMPANY, "organisation"},
    {FORM_KIND_COMPANY, "organisatie"},
    {FORM_KIND_COMPANY, "~org"},
    {FORM_KIND_COMPANY, "business name"},
    {FORM_KIND_COMPANY, "~firma"},
    {FORM_KIND_COMPANY, "firmen"},
    {FORM_KIND_COMPANY, "unternehmen"},
    {FORM_KIND_COMPANY, "entreprise"},
    {FORM_KIND_COMPANY, "société"},
    {FORM_KIND_COMPANY, "societe"},
    {FORM_KIND_COMPANY, "empresa"},
    {FORM_KIND_COMPANY, "azienda"},
    {FORM_KIND_COMPANY, "società"},
    {FORM_KIND_COMPANY, "bedrijf"},
    {FORM_KIND_COMPANY, "会社"},
    {FORM_KIND_COMPANY, "企業"},
    {FORM_KIND_COMPANY, "貴社"},
    {FORM_KIND_COMPANY, "御社"},
    {FORM_KIND_COMPANY, "法人"},
    {FORM_KIND_COMPANY, "団体"},
    {FORM_KIND_COMPANY, "公司"},
    {FORM_KIND_COMPANY, "компания"},
    {FORM_KIND_COMPANY, "организация"},
    /* job title */
    {FORM_KIND_JOB_TITLE, "job title"},
    {FORM_KIND_JOB_TITLE, "jobtitle"},
    {FORM_KIND_JOB_TITLE, "~job"},
    {FORM_KIND_JOB_TITLE, "~position"},
    {FORM_KIND_JOB_TITLE, "~funktion"},
    {FORM_KIND_JOB_TITLE, "~fonction"},
    {FORM_KIND_JOB_TITLE, "~poste"},
    {FORM_KIND_JOB_TITLE, "~cargo"},
    {FORM_KIND_JOB_TITLE, "~puesto"},
    {FORM_KIND_JOB_TITLE, "~ruolo"},
    {FORM_KIND_JOB_TITLE, "~functie"},
    {FORM_KIND_JOB_TITLE, "役職"},
    {FORM_KIND_JOB_TITLE, "职位"},
    {FORM_KIND_JOB_TITLE, "должность"},
    /* names: full first when it names both, then last, first, full */
    {FORM_KIND_FULL_NAME, "full name"},
    {FORM_KIND_FULL_NAME, "fullname"},
    {FORM_KIND_FULL_NAME, "nom et prénom"},
    {FORM_KIND_FULL_NAME, "prénom et nom"},
    {FORM_KIND_FULL_NAME, "nom complet"},
    {FORM_KIND_FULL_NAME, "nombre completo"},
    {FORM_KIND_FULL_NAME, "nome completo"},
    {FORM_KIND_FULL_NAME, "nome e cognome"},
    {FORM_KIND_FULL_NAME, "vor und nachname"},
    {FORM_KIND_FULL_NAME, "vor  und nachname"},
    {FORM_KIND_FULL_NAME, "姓名"},
    {FORM_KIND_FULL_NAME, "氏名"},
    {FORM_KIND_LAST_NAME, "last name"},
    {FORM_KIND_LAST_NAME, "lastname"},
    {FORM_KIND_LAST_NAME, "~lname"},
    {FORM_KIND_LAST_NAME, "surname"},
    {FORM_KIND_LAST_NAME, "family name"},
    {FORM_KIND_LAST_NAME, "familyname"},
    {FORM_KIND_LAST_NAME, "nachname"},
    {FORM_KIND_LAST_NAME, "familienname"},
    {FORM_KIND_LAST_NAME, "nom de famille"},
    {FORM_KIND_LAST_NAME, "apellido"},
    {FORM_KIND_LAST_NAME, "cognome"},
    {FORM_KIND_LAST_NAME, "sobrenome"},
    {FORM_KIND_LAST_NAME, "achternaam"},
    {FORM_KIND_LAST_NAME, "фамилия"},
    {FORM_KIND_LAST_NAME, "=姓"},
    {FORM_KIND_LAST_NAME, "=せい"},
    {FORM_KIND_FIRST_NAME, "first name"},
    {FORM_KIND_FIRST_NAME, "firstname"},
    {FORM_KIND_FIRST_NAME, "~fname"},
    {FORM_KIND_FIRST_NAME, "given name"},
    {FORM_KIND_FIRST_NAME, "givenname"},
    {FORM_KIND_FIRST_NAME, "forename"},
    {FORM_KIND_FIRST_NAME, "vorname"},
    {FORM_KIND_FIRST_NAME, "prénom"},
    {FORM_KIND_FIRST_NAME, "prenom"},
    {FORM_KIND_FIRST_NAME, "voornaam"},
    {FORM_KIND_FIRST_NAME, "primeiro nome"},
    {FORM_KIND_FIRST_NAME, "=名"},
    {FORM_KIND_FIRST_NAME, "~first"}, /* WPForms' sub-fields: [first], "First" */
    {FORM_KIND_LAST_NAME, "~last"},
    {FORM_KIND_FIRST_NAME, "=めい"},
    {FORM_KIND_FULL_NAME, "name"},
    {FORM_KIND_FULL_NAME, "~nom"},
    {FORM_KIND_FULL_NAME, "nombre"},
    {FORM_KIND_FULL_NAME, "~nome"},
    {FORM_KIND_FULL_NAME, "~naam"},
    {FORM_KIND_FULL_NAME, "お名前"},
    {FORM_KIND_FULL_NAME, "名前"},
    {FORM_KIND_FULL_NAME, "ご担当者"},
    {FORM_KIND_FULL_NAME, "担当者"},
    {FORM_KIND_FULL_NAME, "~имя"},
    {FORM_KIND_FULL_NAME, "ansprechpartner"},
    {FORM_KIND_FULL_NAME, "~your name"},
    /* message */
    {FORM_KIND_MESSAGE, "message"},
    {FORM_KIND_MESSAGE, "nachricht"},
    {FORM_KIND_MESSAGE, "mitteilung"},
    {FORM_KIND_MESSAGE, "anliegen"},
    {FORM_KIND_MESSAGE, "anfrage"},
    {FORM_KIND_MESSAGE, "kommentar"},
    {FORM_KIND_MESSAGE, "comment"},
    {FORM_KIND_MESSAGE, "enquiry"},
    {FORM_KIND_MESSAGE, "inquiry"},
    {FORM_KIND_MESSAGE, "question"},
    {FORM_KIND_MESSAGE, "how can we help"},
    {FORM_KIND_MESSAGE, "~details"},
    {FORM_KIND_MESSAGE, "mensaje"},
    {FORM_KIND_MESSAGE, "consulta"},
    {FORM_KIND_MESSAGE, "comentario"},
    {FORM_KIND_MESSAGE, "messaggio"},
    {FORM_KIND_MESSAGE, "richiesta"},
    {FORM_KIND_MESSAGE, "commento"},
    {FORM_KIND_MESSAGE, "bericht"},
    {FORM_KIND_MESSAGE, "~vraag"},
    {FORM_KIND_MESSAGE, "opmerking"},
    {FORM_KIND_MESSAGE, "mensagem"},
    {FORM_KIND_MESSAGE, "comentário"},
    {FORM_KIND_MESSAGE, "commentaire"},
    {FORM_KIND_MESSAGE, "demande"},
    {FORM_KIND_MESSAGE, "~body"},
    {FORM_KIND_MESSAGE, "~content"},
    {FORM_KIND_MESSAGE, "description"},
    {FORM_KIND_MESSAGE, "内容"},
    {FORM_KIND_MESSAGE, "本文"},
    {FORM_KIND_MESSAGE, "お問い合わせ"},
    {FORM_KIND_MESSAGE, "お問合せ"},
    {FORM_KIND_MESSAGE, "ご質問"},
    {FORM_KIND_MESSAGE, "留言"},
    {FORM_KIND_MESSAGE, "消息"},
    {FORM_KIND_MESSAGE, "сообщение"},
    {FORM_KIND_MESSAGE, "вопрос"},
};

static const char *const consent_words[] = {
    "privacy",       "consent",         "agree",         "gdpr",
    "terms",         "acceptance",      "accept",        "datenschutz",
    "einverstanden", "akzeptiere",      "einwillig",     "dsgvo",
    "~agb",          "confidentialité", "j'accepte",     "rgpd",
    "accepte",       "privacidad",      "acepto",        "consentimento",
    "concordo",      "aceito",          "acconsento",    "accetto",
    "informativa",   "akkoord",         "privacybeleid", "toestemming",
    "同意",          "個人情報",        "プライバシー",  "隐私",
};

static bool match(const char *hay, const char *kw)
{
    if (kw[0] == '=') {
        while (*hay == ' ') hay++;
        size_t n = strlen(hay);
        while (n && (hay[n - 1] == ' ' || hay[n - 1] == '*' || hay[n - 1] == ':')) n--;
        return strlen(kw + 1) == n && strncmp(hay, kw + 1, n) == 0;
    }
    if (kw[0] == '~') return fp_has_word(hay, kw + 1);
    return strstr(hay, kw) != NULL;
}

/* The pairs of bytes a text holds, hashed into 1024 bits: a keyword whose first pairs are not
 * there cannot match, which spares most of the rules' searches. */
typedef struct {
    uint64_t bits[16];
} pairs_seen_t;

static unsigned pair_hash(unsigned char a, unsigned char b)
{
    return (a * 31u + b) & 1023u;
}

static void pairs_of(const char *s, pairs_seen_t *g)
{
    memset(g, 0, sizeof *g);
    for (const unsigned char *u = (const unsigned char *)s; u[0] && u[1]; u++) {
        unsigned h = pair_hash(u[0], u[1]);
        g->bits[h >> 6] |= 1ull << (h & 63);
    }
}

static bool may_hold(const pairs_seen_t *g, const char *kw)
{
    const unsigned char *u = (const unsigned char *)kw + (kw[0] == '~' || kw[0] == '=');
    for (int i = 0; i < 2 && u[i] && u[i + 1]; i++) {
        unsigned h = pair_hash(u[i], u[i + 1]);
        if (!(g->bits[h >> 6] & (1ull << (h & 63)))) return false;
    }
    return true;
}

/* The kind a text names (folded, words), or FORM_KIND_OTHER. */
static form_kind_t kind_of(const char *s)
{
    if (!s || !*s) return FORM_KIND_OTHER;
    char f[FP_LABEL_MAX + 1];
    size_t n = strnlen(s, FP_LABEL_MAX);
    fp_fold(f, s, n, true);
    pairs_seen_t g;
    pairs_of(f, &g);
    for (size_t i = 0; i < sizeof rules / sizeof *rules; i++)
        if (may_hold(&g, rules[i].kw) && match(f, rules[i].kw)) return rules[i].kind;
    return FORM_KIND_OTHER;
}

static bool has_any(const char *s, const char *const *words, size_t n)
{
    if (!s || !*s) return false;
    char f[FP_LABEL_MAX + 1];
    size_t k = strnlen(s, FP_LABEL_MAX);
    fp_fold(f, s, k, true);
    pairs_seen_t g;
    pairs_of(f, &g);
    for (size_t i = 0; i < n; i++)
        if (may_hold(&g, words[i]) && match(f, words[i])) return true;
    return false;
}

static bool is(const char *a, const char *b)
{
    return a && strcmp(a, b) == 0;
}

form_kind_t form_classify_field(const form_field_desc_t *f)
{
    const char *tag = f->tag ? f->tag : "input", *type = f->type ? f->type : "";
    if (is(tag, "button")) return !*type || is(type, "submit") ? FORM_KIND_SUBMIT : FORM_KIND_OTHER;
    if (is(type, "submit") || is(type, "image")) return FORM_KIND_SUBMIT;
    if (is(type, "button") || is(type, "reset")) return FORM_KIND_OTHER;
    if (is(type, "hidden")) return FORM_KIND_HIDDEN;
    if (is(type, "file")) return FORM_KIND_FILE;
    /* the words people read first, then the names, then the text before the field; traps and
     * CAPTCHAs by what names the field itself (a reCAPTCHA notice above a field is not one) */
    const char *srcs[] = {f->label, f->aria_label, f->name, f->id, f->placeholder, f->near};
    const size_t nsrc = sizeof srcs / sizeof *srcs, nnamed = nsrc - 1;
    form_kind_t ks[sizeof srcs / sizeof *srcs];
    for (size_t i = 0; i < nsrc; i++)
        ks[i] = srcs[i] == f->placeholder && f->placeholder && strchr(f->placeholder, '@')
                    ? FORM_KIND_EMAIL /* "you@company.com" */
                    : kind_of(srcs[i]);
    /* traps: hidden from people, or named and labelled as one */
    if (f->hidden_by_css && !is(tag, "select")) return FORM_KIND_HONEYPOT;
    for (size_t i = 0; i < nnamed; i++)
        if (ks[i] == FORM_KIND_HONEYPOT) return FORM_KIND_HONEYPOT;
    bool textlike = is(tag, "textarea") || (is(tag, "input") && !is(type, "checkbox") &&
                                            !is(type, "radio") && !is(type, "select-one"));
    if (f->tabindex < 0 && textlike && !f->label && !f->placeholder && !f->aria_label)
        return FORM_KIND_HONEYPOT;
    if (f->tabindex < 0 && textlike && f->autocomplete &&
        (is(f->autocomplete, "off") || is(f->autocomplete, "nope") ||
         is(f->autocomplete, "new-password")))
        return FORM_KIND_HONEYPOT;
    for (size_t i = 0; i < nsrc; i++)
        if ((i < nnamed && ks[i] == FORM_KIND_CAPTCHA) || (i != 2 && i != 3 && fp_is_math(srcs[i])))
            return FORM_KIND_CAPTCHA;
    if (is(type, "checkbox")) {
        for (size_t i = 0; i < 4; i++)
            if (has_any(srcs[i], consent_words, sizeof consent_words / sizeof *consent_words))
                return FORM_KIND_CONSENT;
        return FORM_KIND_CHECKBOX;
    }
    if (is(tag, "select") || is(type, "radio")) return FORM_KIND_SELECT;
    if (is(type, "password")) return FORM_KIND_OTHER;
    /* the browser's own hints */
    static const struct {
        const char *ac;
        form_kind_t k;
    } acs[] = {{"given-name", FORM_KIND_FIRST_NAME},
               {"family-name", FORM_KIND_LAST_NAME},
               {"name", FORM_KIND_FULL_NAME},
               {"email", FORM_KIND_EMAIL},
               {"tel", FORM_KIND_PHONE},
               {"tel-national", FORM_KIND_PHONE},
               {"organization", FORM_KIND_COMPANY},
               {"url", FORM_KIND_WEBSITE},
               {"organization-title", FORM_KIND_JOB_TITLE}};
    if (f->autocomplete) {
        const char *last = strrchr(f->autocomplete, ' ');
        last = last ? last + 1 : f->autocomplete;
        for (size_t i = 0; i < sizeof acs / sizeof *acs; i++)
            if (strcmp(last, acs[i].ac) == 0) return acs[i].k;
    }
    if (is(type, "email")) return FORM_KIND_EMAIL;
    if (is(type, "tel")) return FORM_KIND_PHONE;
    if (is(type, "url")) return FORM_KIND_WEBSITE;
    /* the words people read first, then the names; a first or last name beats "name" */
    form_kind_t k = FORM_KIND_OTHER;
    for (size_t i = 0; i < nsrc; i++) {
        form_kind_t c = ks[i];
        if (c == K_NONE) {
            if (k == FORM_KIND_OTHER) return FORM_KIND_OTHER;
            continue;
        }
        if (c == FORM_KIND_OTHER) continue;
        if (k == FORM_KIND_OTHER) k = c;
        else if (k == FORM_KIND_FULL_NAME &&
                 (c == FORM_KIND_FIRST_NAME || c == FORM_KIND_LAST_NAME))
            return c;
    }
    if (k == FORM_KIND_OTHER && is(tag, "textarea")) k = FORM_KIND_MESSAGE;
    if (is(tag, "textarea") && k != FORM_KIND_MESSAGE && k != FORM_KIND_CAPTCHA &&
        k != FORM_KIND_HONEYPOT)
        k = FORM_KIND_MESSAGE; /* a textarea is where a message goes, whatever it asks */
    return k;
}

/* Kinds of a form's fields, in the form's context: "Name" next to "Surname" is a first name,
 * "Nom" next to "Prénom" a last name. */
static void classify_form(form_page_t *p, int form)
{
    bool first = false, last = false;
    for (size_t i = 0; i < p->nfields; i++) {
        if (p->fields[i].form != form) continue;
        form_kind_t k = form_classify_field(&p->fields[i].d);
        p->kinds[i] = k;
        first = first || k == FORM_KIND_FIRST_NAME;
        last = last || k == FORM_KIND_LAST_NAME;
    }
    if (first != last)
        for (size_t i = 0; i < p->nfields; i++)
            if (p->fields[i].form == form && p->kinds[i] == FORM_KIND_FULL_NAME)
                p->kinds[i] = first ? FORM_KIND_LAST_NAME : FORM_KIND_FIRST_NAME;
}

form_kind_t fp_field_kind(form_page_t *p, size_t i)
{
    if (p->kinds[i] == (form_kind_t)-1) classify_form(p, p->fields[i].form);
    return p->kinds[i];
}

/* ---- filling ---- */

/* How well an option suits a sales or general enquiry: 0 not at all. */
static int option_score(const char *value, const char *text)
{
    static const struct {
        const char *kw;
        int score;
    } words[] = {
        {"sales", 5},        {"new business", 5},   {"partnership", 5},  {"partner", 4},
        {"business", 4},     {"commercial", 4},     {"vertrieb", 5},     {"verkauf", 5},
        {"geschäftlich", 4}, {"kooperation", 4},    {"ventes", 5},       {"partenariat", 5},
        {"ventas", 5},       {"colaboración", 4},   {"comercial", 4},    {"vendite", 5},
        {"commerciale", 4},  {"collaborazione", 4}, {"verkoop", 5},      {"samenwerking", 4},
        {"vendas", 5},       {"parceria", 4},       {"営業", 4},         {"提携", 4},
        {"協業", 4},         {"general", 3},        {"allgemein", 3},    {"général", 3},
        {"generale", 3},     {"algemeen", 3},       {"geral", 3},        {"enquiry", 3},
        {"inquiry", 3},      {"anfrage", 2},        {"demande", 2},      {"consulta", 2},
        {"richiesta", 2},    {"一般", 3},           {"お問い合わせ", 2}, {"other", 1},
        {"sonstig", 1},      {"andere", 1},         {"autre", 1},        {"otro", 1},
        {"altro", 1},        {"overig", 1},         {"anders", 1},       {"outro", 1},
        {"その他", 1},       {"其他", 1},
    };
    static const char *const never[] = {
        "support",   "billing",    "job",       "career",    "karriere", "press",      "presse",
        "complaint", "beschwerde", "technical", "technique", "técnico",  "recruit",    "bewerbung",
        "stellen",   "emploi",     "empleo",    "サポート",  "採用",     "unsubscribe"};
    char f[2 * FP_LABEL_MAX + 2];
    snprintf(f, sizeof f, "%s %s", text ? text : "", value ? value : "");
    fp_fold(f, f, strlen(f), true);
    pairs_seen_t g;
    pairs_of(f, &g);
    for (size_t i = 0; i < sizeof never / sizeof *never; i++)
        if (may_hold(&g, never[i]) && strstr(f, never[i])) return 0;
    int best = 0;
    for (size_t i = 0; i < sizeof words / sizeof *words; i++)
        if (words[i].score > best && may_hold(&g, words[i].kw) && strstr(f, words[i].kw))
            best = words[i].score;
    return best;
}

static bool placeholder_option(const fp_option_t *o)
{
    return o->disabled || !o->value || !*o->value;
}

typedef struct {
    pa_buf_t pairs; /* form_pair_t[] */
    size_t n;
} pairs_t;

static void add_pair(pairs_t *ps, const char *name, const char *value, form_kind_t k,
                     const char *label, bool file)
{
    form_pair_t pr = {name, value ? value : "", k, label, file};
    pa_buf_put(&ps->pairs, &pr, sizeof pr);
    ps->n++;
}

static const char *label_of(const fp_field_t *f)
{
    bool hidden = f->d.type && strcmp(f->d.type, "hidden") == 0; /* no text before it is its */
    const char *srcs[] = {f->d.label, f->d.aria_label, f->d.placeholder, hidden ? NULL : f->d.near,
                          f->d.name};
    for (size_t i = 0; i < 5; i++)
        if (srcs[i] && *srcs[i]) return srcs[i];
    return "";
}

/* A label with a star, "(required)" and the like. */
static bool label_says_required(const fp_field_t *f)
{
    static const char *const req[] = {"required",    "pflicht",      "obligatoire",
                                      "obligatorio", "obbligatorio", "verplicht",
                                      "obrigatório", "必須",         "必填"};
    /* the text before the field counts when it is all the label there is, and short */
    const char *near = !f->d.label && f->d.near && strlen(f->d.near) <= 40 ? f->d.near : NULL;
    const char *srcs[] = {f->d.label, f->d.placeholder, f->d.aria_label, near};
    for (size_t i = 0; i < 4; i++) {
        if (!srcs[i]) continue;
        if (strchr(srcs[i], '*')) return true;
        if (has_any(srcs[i], req, sizeof req / sizeof *req)) return true;
    }
    return false;
}

/* s cut to max characters (maxlength counts characters). */
static const char *fit(pa_arena_t *a, const char *s, long max)
{
    if (!s || max < 0) return s;
    size_t i = 0;
    long chars = 0;
    while (s[i] && chars < max) {
        i++;
        while (((unsigned char)s[i] & 0xC0) == 0x80) i++;
        chars++;
    }
    return s[i] ? pa_arena_strndup(a, s, i) : s;
}

int form_page_fill(form_page_t *p, int form, const form_sender_t *s, const char *subject,
                   const char *message, form_fill_t *out)
{
    memset(out, 0, sizeof *out);
    if (form < 0 || (size_t)form >= p->nforms) return -1;
    fp_form_t *fm = &p->forms[form];
    pa_arena_t *a = p->arena;
    /* the sender's name, split when only the full name is known */
    const char *full = s->name && *s->name ? s->name : NULL;
    const char *first = s->first_name && *s->first_name ? s->first_name : NULL;
    const char *last = s->last_name && *s->last_name ? s->last_name : NULL;
    if (full && (!first || !last)) {
        const char *sp = strchr(full, ' ');
        if (sp) {
            if (!first) first = pa_arena_strndup(a, full, (size_t)(sp - full));
            if (!last) {
                while (*sp == ' ') sp++;
                last = *sp ? pa_arena_strdup(a, sp) : NULL;
            }
        } else if (!first) {
            first = full;
        }
    }
    if (!full && first && last) {
        size_t n = strlen(first) + strlen(last) + 2;
        char *f = pa_arena_alloc(a, n);
        snprintf(f, n, "%s %s", first, last);
        full = f;
    } else if (!full) {
        full = first ? first : last;
    }
    const char *by_kind[FORM_KIND_CAPTCHA + 1] = {0};
    by_kind[FORM_KIND_FIRST_NAME] = first;
    by_kind[FORM_KIND_LAST_NAME] = last;
    by_kind[FORM_KIND_FULL_NAME] = full;
    by_kind[FORM_KIND_EMAIL] = s->email;
    by_kind[FORM_KIND_PHONE] = s->phone;
    by_kind[FORM_KIND_COMPANY] = s->company;
    by_kind[FORM_KIND_WEBSITE] = s->website;
    by_kind[FORM_KIND_JOB_TITLE] = s->title;
    by_kind[FORM_KIND_SUBJECT] = subject;
    by_kind[FORM_KIND_MESSAGE] = message;
    for (size_t k = 0; k <= FORM_KIND_CAPTCHA; k++)
        if (by_kind[k] && !*by_kind[k]) by_kind[k] = NULL;

    pairs_t ps = {PA_BUF_INIT, 0};
    bool submitted = false, message_used = false;
    for (size_t i = 0; i < p->nfields; i++) {
        fp_field_t *f = &p->fields[i];
        if (f->form != form || f->disabled) continue;
        form_kind_t k = fp_field_kind(p, i);
        const char *name = f->d.name, *type = f->d.type ? f->d.type : "";
        bool required = f->required || label_says_required(f);
        if (k == FORM_KIND_SUBMIT) {
            /* the first submit button is the one pressed; its name=value goes when named */
            if (!submitted && name && *name) {
                if (strcmp(type, "image") == 0) {
                    size_t n = strlen(name) + 3;
                    char *x = pa_arena_alloc(a, n), *y = pa_arena_alloc(a, n);
                    snprintf(x, n, "%s.x", name), snprintf(y, n, "%s.y", name);
                    add_pair(&ps, x, "1", k, label_of(f), false);
                    add_pair(&ps, y, "1", k, label_of(f), false);
                } else {
                    add_pair(&ps, name, f->value ? f->value : "", k, label_of(f), false);
                }
            }
            submitted = true;
            continue;
        }
        if (!name || !*name) continue;
        if (strcmp(f->d.tag, "button") == 0 || strcmp(type, "button") == 0 ||
            strcmp(type, "reset") == 0)
            continue;
        const char *label = label_of(f);
        switch (k) {
        case FORM_KIND_HIDDEN: add_pair(&ps, name, f->value, k, label, false); break;
        case FORM_KIND_HONEYPOT:
            if (strcmp(type, "checkbox") != 0 && strcmp(type, "radio") != 0)
                add_pair(&ps, name, "", k, label, false);
            break;
        case FORM_KIND_FILE:
            if (required && !out->unfillable) out->unfillable = label;
            add_pair(&ps, name, "", k, label, true);
            break;
        case FORM_KIND_CAPTCHA: add_pair(&ps, name, f->value, k, label, false); break;
        case FORM_KIND_CONSENT:
        case FORM_KIND_CHECKBOX: {
            static const char *const marketing[] = {
                "newsletter", "marketing", "werbung", "promotion", "offers", "angebote", "news"};
            bool check = f->checked || required ||
                         (k == FORM_KIND_CONSENT &&
                          !has_any(f->d.label, marketing, sizeof marketing / sizeof *marketing));
            if (k == FORM_KIND_CHECKBOX && required && !f->checked) {
                /* a required box that is not plainly consent: not ours to tick */
                if (!out->unfillable) out->unfillable = label;
                check = false;
            }
            if (check) add_pair(&ps, name, f->value ? f->value : "on", k, label, false);
            break;
        }
        case FORM_KIND_SELECT: {
            bool radio = strcmp(type, "radio") == 0;
            if (radio) {
                /* a radio group: its first member decides for all */
                bool seen = false;
                for (size_t j = 0; j < i && !seen; j++)
                    seen = p->fields[j].form == form && is(p->fields[j].d.type, "radio") &&
                           is(p->fields[j].d.name, name);
                if (seen) break;
                const fp_field_t *pick = NULL, *checked = NULL;
                int best = 0;
                bool group_required = false;
                for (size_t j = i; j < p->nfields; j++) {
                    const fp_field_t *g = &p->fields[j];
                    if (g->form != form || !is(g->d.type, "radio") || !is(g->d.name, name))
                        continue;
                    group_required = group_required || g->required;
                    if (g->checked && !checked) checked = g;
                    int sc = option_score(g->value, g->d.label);
                    if (sc > best) best = sc, pick = g;
                }
                if (!pick) pick = checked;
                if (pick) add_pair(&ps, name, pick->value ? pick->value : "on", k, label, false);
                else if ((group_required || required) && !out->unfillable) out->unfillable = label;
                break;
            }
            const fp_option_t *o = p->options + f->opt0, *pick = NULL, *dflt = NULL;
            int best = 0;
            for (size_t j = 0; j < f->nopt; j++) {
                if (o[j].selected && !dflt) dflt = &o[j];
                if (placeholder_option(&o[j])) continue;
                int sc = option_score(o[j].value, o[j].text);
                if (sc > best) best = sc, pick = &o[j];
            }
            if (!dflt) /* what a browser sends: the first option that is not disabled */
                for (size_t j = 0; j < f->nopt && !dflt; j++)
                    if (!o[j].disabled) dflt = &o[j];
            if (!pick && dflt && !placeholder_option(dflt) && (f->nopt > 1 || !required))
                pick = dflt;
            if (!pick && required) {
                if (!out->unfillable) out->unfillable = label;
            } else if (pick || dflt) {
                add_pair(&ps, name, (pick ? pick : dflt)->value, k, label, false);
            }
            break;
        }
        default: {
            const char *v = k == FORM_KIND_MESSAGE && message_used ? NULL : by_kind[k];
            if (k == FORM_KIND_MESSAGE && v) message_used = true;
            if (!v && f->value && *f->value) v = f->value; /* as the page has it */
            if (!v && required && !out->unfillable) out->unfillable = label;
            add_pair(&ps, name, fit(a, v ? v : "", f->maxlength), k, label, false);
        }
        }
    }
    /* the pairs into the page's arena */
    form_pair_t *pairs = pa_arena_alloc(a, ps.pairs.len + sizeof(form_pair_t));
    if (ps.pairs.len) memcpy(pairs, ps.pairs.data, ps.pairs.len);
    pa_buf_free(&ps.pairs);
    out->pairs = pairs;
    out->npairs = ps.n;
    out->method = fm->method && strcasecmp(fm->method, "post") == 0 ? "POST" : "GET";
    out->enctype = fm->enctype && strncasecmp(fm->enctype, "multipart/form-data", 19) == 0
                       ? "multipart/form-data"
                       : "application/x-www-form-urlencoded";
    const char *action = fm->action && *fm->action ? fp_resolve(p, fm->action) : NULL;
    out->action = action ? action : p->url;
    const char *hash = strchr(out->action, '#'); /* a browser does not send the fragment */
    if (hash) out->action = pa_arena_strndup(a, out->action, (size_t)(hash - out->action));
    return 0;
}
