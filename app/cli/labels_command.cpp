// preflab-cli labels: import candidate pairs into a label store, record decisions, agreement,
// statistics and export to TRL / KTO / Pick-a-Pic files.
#include "cli/cli_common.h"

#include "core/labels/label_agreement.h"
#include "core/labels/label_candidates.h"
#include "core/labels/label_export.h"
#include "core/labels/label_store.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <iostream>
#include <map>

namespace preflab::cli {

namespace {

nlohmann::json number(double v) {
  return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
}

nlohmann::json agreementJson(const core::LabelStore &store) {
  const auto a = core::computeAgreement(store.currentDecisions());
  std::map<std::int64_t, std::string> ids;
  for (const auto &s : store.items())
    ids[s.key] = s.item.id;
  nlohmann::json items = nlohmann::json::array(), pairs = nlohmann::json::array();
  for (const auto &i : a.items) {
    nlohmann::json votes = nlohmann::json::object();
    for (const auto &[c, n] : i.votes)
      votes[core::labelChoiceName(c)] = n;
    items.push_back(
        {{"id", ids[i.item]},
         {"annotators", i.annotators},
         {"majority", i.majority ? nlohmann::json(core::labelChoiceName(*i.majority)) : nlohmann::json()},
         {"share", i.share},
         {"votes", votes}});
  }
  for (const auto &p : a.pairs)
    pairs.push_back({{"a", p.a},
                     {"b", p.b},
                     {"items", p.items},
                     {"observed", p.observed},
                     {"cohen_kappa", number(p.cohenKappa)}});
  return {{"items", items},
          {"pairs", pairs},
          {"items_with_two_or_more", a.itemsWithTwoOrMore},
          {"krippendorff_alpha", number(a.krippendorffAlpha)},
          {"fleiss_kappa", a.fleissKappa ? number(*a.fleissKappa) : nlohmann::json()}};
}

} // namespace

Action addLabelsCommand(CLI::App &app) {
  auto *cmd = app.add_subcommand("labels", "Label stores (SQLite): import candidate pairs, record decisions, "
                                           "agreement between annotators, statistics, export for training.");
  cmd->require_subcommand(1);
  struct Args {
    std::string store, candidates, out, format = "trl", item, annotator, choice, note;
    bool json = false, tiesHalf = false, skipInvalid = false;
  };
  auto a = std::make_shared<Args>();
  auto *imp =
      cmd->add_subcommand("import", "Add the pairs of a candidate file to a store (created if missing); "
                                    "items whose id the store has are left as they are.");
  imp->add_option("candidates", a->candidates,
                  "JSONL: {prompt, completion_a, completion_b} (or chosen/rejected), or images {caption, "
                  "image_a, image_b} (or jpg_0/jpg_1), optional id")
      ->required();
  imp->add_option("--store", a->store, "the label store file, e.g. project.preflab-labels")->required();
  imp->add_flag("--skip-invalid", a->skipInvalid,
                "import the good lines and list the others (bad JSON, identical candidates, a missing "
                "image) instead of importing nothing");
  auto *exp = cmd->add_subcommand("export", "Write the current decisions as a training file.");
  exp->add_option("store", a->store, "label store")->required();
  exp->add_option("--format", a->format,
                  "trl (pairs with rater_fraction and rater_count), kto (unpaired: both bad gives two "
                  "undesirable completions) or pickapic (image manifest, label_0 1/0/0.5)");
  exp->add_option("--out", a->out, "output JSONL")->required();
  exp->add_flag("--ties-half", a->tiesHalf,
                "trl: a tie vote counts half for each candidate (default: left out)");
  auto *agr =
      cmd->add_subcommand("agreement", "Agreement between annotators: per item majority and share, "
                                       "Cohen's kappa per pair, Krippendorff's alpha, Fleiss' kappa.");
  agr->add_option("store", a->store, "label store")->required();
  agr->add_flag("--json", a->json, "print as JSON (every item)");
  auto *st = cmd->add_subcommand("stats", "Items, decisions per annotator, skips, undos, time per item.");
  st->add_option("store", a->store, "label store")->required();
  st->add_flag("--json", a->json, "print as JSON");
  auto *dec =
      cmd->add_subcommand("decide", "Record one decision (for scripts; the app's Label view does the same).");
  dec->add_option("store", a->store, "label store")->required();
  dec->add_option("--item", a->item, "the item's id")->required();
  dec->add_option("--annotator", a->annotator, "who decides")->required();
  dec->add_option("--choice", a->choice, "first, second, tie, both_bad or skip (of the stored candidates)")
      ->required();
  dec->add_option("--note", a->note, "a free-text note");
  auto *und =
      cmd->add_subcommand("undo", "Undo an annotator's newest decision (recorded as one more event).");
  und->add_option("store", a->store, "label store")->required();
  und->add_option("--annotator", a->annotator, "whose decision")->required();
  return [a, imp, exp, agr, st, dec, und]() -> int {
    core::LabelStore store(a->store);
    if (imp->parsed()) {
      std::vector<core::SkippedCandidate> skipped;
      const auto items = core::readLabelCandidates(a->candidates, a->skipInvalid ? &skipped : nullptr);
      const auto n = store.addItems(items);
      for (const auto &s : skipped)
        std::fprintf(stderr, "skipped: %s\n", s.reason.c_str());
      if (!skipped.empty())
        std::fprintf(stderr, "%zu line(s) skipped\n", skipped.size());
      std::printf("%s: %lld item(s) added, %lld already in the store (%zu in %s)\n", a->store.c_str(),
                  (long long)n.added, (long long)n.alreadyThere, items.size(), a->candidates.c_str());
      return kOk;
    }
    if (exp->parsed()) {
      core::LabelExportOptions o;
      o.format = core::labelExportFormatNamed(a->format);
      o.tiesCountHalf = a->tiesHalf;
      const auto n = core::exportLabels(store, a->out, o);
      std::printf("%s: %lld line(s); left out: %lld unlabelled, %lld tied, %lld both bad, %lld of the other "
                  "modality\n",
                  a->out.c_str(), (long long)n.written, (long long)n.unlabelled, (long long)n.tied,
                  (long long)n.bothBad, (long long)n.otherKind);
      return kOk;
    }
    if (agr->parsed()) {
      const auto j = agreementJson(store);
      if (a->json) {
        std::cout << j.dump(2) << "\n";
        return kOk;
      }
      std::printf("items with two or more annotators: %d\n", j["items_with_two_or_more"].get<int>());
      auto show = [](const nlohmann::json &v) {
        return v.is_null() ? std::string("undefined") : std::to_string(v.get<double>());
      };
      std::printf("Krippendorff's alpha (nominal): %s\n", show(j["krippendorff_alpha"]).c_str());
      std::printf("Fleiss' kappa: %s\n", j["fleiss_kappa"].is_null()
                                             ? "not shown (items have different numbers of annotators)"
                                             : show(j["fleiss_kappa"]).c_str());
      for (const auto &p : j["pairs"])
        std::printf("  %s ~ %s: %d items, agree %.3f, Cohen's kappa %s\n", p["a"].get<std::string>().c_str(),
                    p["b"].get<std::string>().c_str(), p["items"].get<int>(), p["observed"].get<double>(),
                    show(p["cohen_kappa"]).c_str());
      int split = 0;
      for (const auto &i : j["items"])
        split += i["majority"].is_null();
      std::printf("items without a majority: %d of %zu labelled\n", split, j["items"].size());
      return kOk;
    }
    if (st->parsed()) {
      const auto items = store.items();
      const auto events = store.events();
      const auto current = store.currentDecisions();
      std::map<std::string, nlohmann::json> per;
      for (const auto &e : events) {
        auto &p = per[e.annotator];
        if (p.is_null())
          p = {{"decisions", 0}, {"skips", 0}, {"undos", 0}, {"seconds", 0.0}, {"current", 0}};
        if (e.undoes > 0)
          p["undos"] = p["undos"].get<int>() + 1;
        else if (e.choice == core::LabelChoice::Skip)
          p["skips"] = p["skips"].get<int>() + 1;
        else {
          p["decisions"] = p["decisions"].get<int>() + 1;
          p["seconds"] = p["seconds"].get<double>() + e.seconds;
        }
      }
      for (const auto &e : current)
        per[e.annotator]["current"] = per[e.annotator]["current"].get<int>() + 1;
      std::map<std::int64_t, int> labelled;
      for (const auto &e : current)
        ++labelled[e.item];
      int text = 0;
      for (const auto &s : items)
        text += s.item.kind == "text";
      nlohmann::json j = {{"items", items.size()},
                          {"text_items", text},
                          {"image_items", int(items.size()) - text},
                          {"labelled_items", labelled.size()},
                          {"events", events.size()},
                          {"annotators", nlohmann::json::object()}};
      for (auto &[name, p] : per) {
        const int d = p["decisions"].get<int>();
        p["mean_seconds"] = d > 0 ? p["seconds"].get<double>() / d : 0.0;
        p.erase("seconds");
        j["annotators"][name] = p;
      }
      if (a->json) {
        std::cout << j.dump(2) << "\n";
        return kOk;
      }
      std::printf("%s: %zu items (%d text, %zu image), %zu labelled, %zu events\n", a->store.c_str(),
                  items.size(), text, items.size() - std::size_t(text), labelled.size(), events.size());
      for (const auto &[name, p] : j["annotators"].items())
        std::printf("  %s: %d current, %d decisions, %d skips, %d undos, %.1f s per decision\n", name.c_str(),
                    p["current"].get<int>(), p["decisions"].get<int>(), p["skips"].get<int>(),
                    p["undos"].get<int>(), p["mean_seconds"].get<double>());
      return kOk;
    }
    if (dec->parsed()) {
      const auto choice = core::labelChoiceNamed(a->choice, "--choice");
      for (const auto &s : store.items())
        if (s.item.id == a->item) {
          const auto id = store.decide(s.key, a->annotator, choice, false, a->note);
          std::printf("event %lld: %s says %s on %s\n", (long long)id, a->annotator.c_str(),
                      a->choice.c_str(), a->item.c_str());
          return kOk;
        }
      std::fprintf(stderr, "error: %s: no item '%s'\n", a->store.c_str(), a->item.c_str());
      return kFailure;
    }
    if (und->parsed()) {
      const auto undone = store.undo(a->annotator);
      if (undone == 0)
        std::printf("%s has no decision to undo\n", a->annotator.c_str());
      else
        std::printf("undid event %lld\n", (long long)undone);
      return kOk;
    }
    return kUsage;
  };
}

} // namespace preflab::cli
