// The generator's words: signal types, page categories and paths, time
// zones, company and person names, CRM titles, opportunity stages. Shared
// by the account model and the field filling. Private to src/generate.
#ifndef DEMANDCENTER_SRC_GENERATE_VOCABULARY_H_
#define DEMANDCENTER_SRC_GENERATE_VOCABULARY_H_

#include <array>
#include <cstdint>
#include <string_view>

namespace demandcenter::generate {

inline constexpr std::string_view kSite = "https://www.example.com";

enum Kind : uint8_t {
  kPageView, kPricingView, kDemoRequest, kFormSubmit, kEmailOpen, kEmailClick, kEmailReply,
  kEmailBounce, kEmailUnsubscribe, kContactUpsert, kAccountUpdate, kOpportunityStage,
  kMeetingHeld, kDealWon, kDealLost, kOwnerChange, kPromptOutcome, kUsage, kKindCount
};
inline constexpr std::array<std::string_view, kKindCount> kTypeNames = {
    "web.page_view", "web.pricing_view", "web.demo_request", "web.form_submit", "email.open",
    "email.click", "email.reply", "email.bounce", "email.unsubscribe", "crm.contact_upsert",
    "crm.account_update", "crm.opportunity_stage", "crm.meeting_held", "crm.deal_won",
    "crm.deal_lost", "crm.owner_change", "crm.prompt_outcome", "product.usage"};

inline bool IsWeb(Kind k) { return k <= kFormSubmit; }
inline bool IsEmail(Kind k) { return k >= kEmailOpen && k <= kEmailUnsubscribe; }

enum Category : uint8_t { kProduct, kPricing, kDocs, kCaseStudy, kBlog, kCareers, kSupport, kOther };
inline constexpr std::array<std::string_view, 8> kCategoryNames = {
    "product", "pricing", "docs", "case_study", "blog", "careers", "support", "other"};
inline constexpr std::array<std::array<std::string_view, 4>, 8> kPaths = {{
    {"/product", "/product/analytics", "/product/integrations", "/product/automation"},
    {"/pricing/compare", "/pricing/faq", "/pricing/add-ons", "/pricing/enterprise"},
    {"/docs/getting-started", "/docs/api", "/docs/sso", "/docs/security"},
    {"/customers/northwind", "/customers/globex", "/customers/initech", "/customers/umbrella"},
    {"/blog/buying-signals", "/blog/sales-is-a-team-sport", "/blog/intent-data", "/blog/playbooks"},
    {"/careers", "/careers/engineering", "/careers/sales", "/careers"},
    {"/support", "/support/status", "/support/contact", "/support/billing"},
    {"/", "/about", "/events", "/partners"},
}};

enum Segment : uint8_t { kSmb, kMidMarket, kEnterprise };
inline constexpr std::array<std::string_view, 3> kSegmentNames = {"smb", "mid_market",
                                                                  "enterprise"};

struct Zone {
  std::string_view name;
  int offset_minutes;  // standard time; daylight saving is ignored
  std::string_view territory;
  std::string_view country;
  std::string_view tld;
  double weight;
};
inline constexpr std::array<Zone, 20> kZones = {{
    {"America/New_York", -300, "na-east", "US", "com", 20},
    {"America/Chicago", -360, "na-central", "US", "com", 10},
    {"America/Los_Angeles", -480, "na-west", "US", "com", 12},
    {"America/Denver", -420, "na-central", "US", "com", 3},
    {"America/Toronto", -300, "na-east", "CA", "ca", 4},
    {"America/Sao_Paulo", -180, "latam", "BR", "com.br", 3},
    {"Europe/London", 0, "uki", "GB", "co.uk", 10},
    {"Europe/Berlin", 60, "dach", "DE", "de", 9},
    {"Europe/Paris", 60, "emea-west", "FR", "fr", 6},
    {"Europe/Amsterdam", 60, "emea-west", "NL", "nl", 4},
    {"Europe/Stockholm", 60, "nordics", "SE", "se", 3},
    {"Europe/Madrid", 60, "emea-west", "ES", "es", 3},
    {"Europe/Zurich", 60, "dach", "CH", "ch", 2},
    {"Europe/Warsaw", 60, "cee", "PL", "pl", 2},
    {"Asia/Dubai", 240, "mea", "AE", "ae", 2},
    {"Asia/Kolkata", 330, "apac-south", "IN", "in", 3},
    {"Asia/Singapore", 480, "apac-south", "SG", "sg", 3},
    {"Asia/Tokyo", 540, "japan", "JP", "jp", 5},
    {"Australia/Sydney", 600, "anz", "AU", "com.au", 5},
    {"Pacific/Auckland", 720, "anz", "NZ", "co.nz", 1},
}};

inline constexpr std::array<std::string_view, 24> kNameHeads = {
    "Nor", "Vel", "Lum", "Quan", "Stra", "Ari", "Bel", "Cor", "Dyn", "Eli", "Fen", "Gal",
    "Hel", "Ix", "Jun", "Kel", "Mar", "Nex", "Ori", "Pra", "Ros", "Sol", "Tal", "Zen"};
inline constexpr std::array<std::string_view, 16> kNameTails = {
    "vex", "tra", "lix", "dia", "gen", "ron", "tek", "via", "mont", "ris", "quent", "ora",
    "nix", "cast", "wave", "field"};
inline constexpr std::array<std::string_view, 16> kNameWords = {
    "Systems", "Labs", "Logistics", "Health", "Analytics", "Foods", "Energy", "Robotics",
    "Capital", "Software", "Manufacturing", "Media", "Biotech", "Networks", "Retail", "Group"};
inline constexpr std::array<std::string_view, 10> kIndustries = {
    "software", "logistics", "healthcare", "financial_services", "manufacturing", "retail",
    "energy", "media", "education", "telecommunications"};
inline constexpr std::array<std::string_view, 24> kFirstNames = {
    "anna", "ben", "carla", "david", "elena", "farid", "grace", "hiro", "ines", "jonas",
    "kim", "lucas", "maya", "noah", "olga", "pavel", "quinn", "rosa", "sam", "tara",
    "umar", "vera", "wei", "yara"};
inline constexpr std::array<std::string_view, 24> kLastNames = {
    "schmidt", "tanaka", "okafor", "novak", "garcia", "larsen", "muller", "silva", "kowalski",
    "brown", "dubois", "rossi", "kim", "patel", "jensen", "moreau", "walsh", "sato", "costa",
    "ivanova", "nguyen", "fischer", "hughes", "berg"};

// CRM titles by the buying role they map to (the default config maps titles
// to roles by keyword; the explicit role is sent for about a third).
struct Title {
  std::string_view title;
  std::string_view role;
};
inline constexpr std::array<Title, 7> kDecisionTitles = {{
    {"CEO", "decision_maker"}, {"Founder & CEO", "decision_maker"},
    {"VP Engineering", "decision_maker"}, {"VP Operations", "decision_maker"},
    {"Chief Operating Officer", "decision_maker"}, {"General Manager", "decision_maker"},
    {"President", "decision_maker"}}};
inline constexpr std::array<Title, 7> kTechnicalTitles = {{
    {"Software Engineer", "technical"}, {"Solutions Architect", "technical"},
    {"IT Manager", "technical"}, {"DevOps Engineer", "technical"},
    {"Security Engineer", "technical"}, {"CTO", "technical"}, {"Data Engineer", "technical"}}};
inline constexpr std::array<Title, 8> kBuyerTitles = {{
    {"CFO", "finance"}, {"Finance Manager", "finance"}, {"Controller", "finance"},
    {"Head of Procurement", "procurement"}, {"Purchasing Manager", "procurement"},
    {"Marketing Manager", "champion"}, {"Head of Sales Operations", "champion"},
    {"Director of Operations", "champion"}}};
inline constexpr std::array<Title, 6> kUserTitles = {{
    {"Business Analyst", "user"}, {"Operations Specialist", "user"},
    {"Marketing Coordinator", "user"}, {"Sales Associate", "user"},
    {"Product Manager", "champion"}, {"Data Analyst", "user"}}};

inline constexpr std::array<std::string_view, 4> kOppStages = {"qualification", "discovery",
                                                               "proposal", "negotiation"};

// Rules of the default config whose prompts crm.prompt_outcome answers, by
// the signal that fires them: web.demo_request, email.reply.
inline constexpr std::array<std::string_view, 2> kPromptRules = {"demo_request_sdr",
                                                                 "email_reply_sdr"};

}  // namespace demandcenter::generate

#endif  // DEMANDCENTER_SRC_GENERATE_VOCABULARY_H_
