// preflab-cli labels: import candidate pairs into a label store, record decisions, agreement,
// statistics and export to TRL / KTO / Pick-a-Pic files.
#include "cli/cli_common.h"

#include "core/jobs/label_generation.h"
#include "core/labels/label_agreement.h"
#include "core/labels/label_candidates.h"
#include "core/labels/label_export.h"
#include "core/labels/label_store.h"

#include <nlohmann/json.hpp>

#include <algorithm>
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
    // generate
    std::string model, prompts, device = "cpu";
    std::int64_t count = 20, maxNewTokens = 48, steps = 50, top = 20;
    std::uint64_t seed = 0;
    double temperature = 1.0, topP = 1.0, guidance = 3.0;
    // rank
    std::string policy, reference, by = "margin";
    double beta = 0.1;
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
  auto *gen = cmd->add_subcommand(
      "generate",
      "Sample two candidates per prompt from a text model (seeds seed+2i, seed+2i+1), or two "
      "images per caption from a diffusion model, into a candidate file; with --store, import it.");
  gen->add_option("--model", a->model,
                  "a text model folder (native, Hugging Face or a checkpoint) or a "
                  "diffusion model folder (diffusion_config.json)")
      ->required();
  gen->add_option("--prompts", a->prompts,
                  "prompts or captions, one per line (text, or JSON with \"prompt\"/\"caption\"); default: "
                  "--count of the built-in task's (sentiment openers, Fashion-MNIST captions)");
  gen->add_option("--count", a->count, "built-in prompts to use without --prompts (default 20)");
  gen->add_option("--out", a->out, "the candidate file to write (JSONL); images go to <stem>-images/")
      ->required();
  gen->add_option("--store", a->store, "also import the candidates into this label store");
  gen->add_option("--seed", a->seed, "first sampling seed (default 0)");
  gen->add_option("--max-new-tokens", a->maxNewTokens, "text: tokens per sample (default 48)");
  gen->add_option("--temperature", a->temperature, "text: sampling temperature, > 0 (default 1)");
  gen->add_option("--top-p", a->topP, "text: nucleus sampling (default 1: off)");
  gen->add_option("--steps", a->steps, "images: DDIM steps (default 50)");
  gen->add_option("--guidance", a->guidance, "images: classifier-free guidance scale (default 3)");
  gen->add_option("--device", a->device, "cpu, cuda or auto (default cpu)");
  auto *rnk = cmd->add_subcommand(
      "rank", "Active selection: how informative a label on each text pair would be for a policy and its "
              "reference: |DPO implicit reward margin| (closest to 0 first) or the difficulty "
              "softplus(-beta c) (hardest, i.e. lowest, first).");
  rnk->add_option("store", a->store, "label store")->required();
  rnk->add_option("--policy", a->policy, "the model being trained (folder)")->required();
  rnk->add_option("--reference", a->reference, "its reference model (folder; default: the policy)");
  rnk->add_option("--beta", a->beta, "beta of the margin and the difficulty (default 0.1)");
  rnk->add_option("--by", a->by, "margin (default) or difficulty")
      ->check(CLI::IsMember({"margin", "difficulty"}));
  rnk->add_option("--top", a->top, "items to print (default 20; all with --json)");
  rnk->add_flag("--json", a->json, "print every item as JSON");
  return [a, imp, exp, agr, st, dec, und, gen, rnk]() -> int {
    if (gen->parsed()) {
      core::CandidateGenerationRequest r;
      r.model = a->model;
      const bool images = core::isDiffusionModelFolder(a->model);
      r.prompts = a->prompts.empty() ? core::builtInLabelPrompts(images, a->count, a->seed)
                                     : core::readPromptList(a->prompts);
      r.seed = a->seed;
      r.sampling.maxNewTokens = a->maxNewTokens;
      r.sampling.temperature = a->temperature;
      r.sampling.topP = a->topP;
      r.imageSampling.steps = a->steps;
      r.imageSampling.guidanceScale = a->guidance;
      r.device = a->device;
      r.out = a->out;
      const auto res = core::generateLabelCandidates(r, [](const std::string &stage, double f) {
        std::fprintf(stderr, "\r%s %3.0f%%", stage.c_str(), 100.0 * f);
        if (f >= 1.0)
          std::fprintf(stderr, "\n");
      });
      for (const auto &l : res.left)
        std::fprintf(stderr, "left out %s\n", l.c_str());
      std::printf("%s: %lld %s pair(s) from %zu prompt(s), %lld left out\n", res.path.c_str(),
                  (long long)res.items, res.images ? "image" : "text", r.prompts.size(),
                  (long long)res.identical);
      if (!a->store.empty()) {
        core::LabelStore store(a->store);
        const auto n = store.addItems(core::readLabelCandidates(res.path));
        std::printf("%s: %lld item(s) added, %lld already in the store\n", a->store.c_str(),
                    (long long)n.added, (long long)n.alreadyThere);
      }
      return kOk;
    }
    core::LabelStore store(a->store);
    if (rnk->parsed()) {
      const auto text = core::rankableItems(store.items(), store.currentDecisions());
      core::InformativenessRequest r;
      r.policy = a->policy;
      r.reference = a->reference;
      r.beta = a->beta;
      const auto scores = core::scoreInformativeness(r, text.items, text.firstWins);
      std::vector<std::size_t> order;
      for (std::size_t i = 0; i < scores.size(); ++i) {
        if (scores[i].scored())
          order.push_back(i);
        else
          std::fprintf(stderr, "not scored: %s\n", scores[i].error.c_str());
      }
      const bool byMargin = a->by == "margin";
      std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) {
        return byMargin ? std::abs(scores[x].margin) < std::abs(scores[y].margin)
                        : scores[x].difficulty < scores[y].difficulty;
      });
      if (a->json) {
        nlohmann::json out = nlohmann::json::array();
        for (auto i : order)
          out.push_back({{"id", text.items[i].id},
                         {"margin", number(scores[i].margin)},
                         {"c", number(scores[i].c)},
                         {"difficulty", number(scores[i].difficulty)}});
        std::cout << out.dump(2) << "\n";
        return kOk;
      }
      std::printf("%zu text item(s), most informative first (by %s; beta %g)\n", order.size(), a->by.c_str(),
                  a->beta);
      std::printf("%-24s %12s %12s %12s\n", "id", "margin", "c", "difficulty");
      for (std::size_t k = 0; k < order.size() && std::int64_t(k) < a->top; ++k) {
        const auto &s = scores[order[k]];
        std::printf("%-24s %12.5f %12.5f %12.5f\n", text.items[order[k]].id.c_str(), s.margin, s.c,
                    s.difficulty);
      }
      return kOk;
    }
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
