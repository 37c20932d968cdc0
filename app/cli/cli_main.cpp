// preflab-cli: headless training, evaluation and analysis of preference-learning runs.
#include "cli/cli_common.h"

#include <iostream>
#include <map>

int main(int argc, char **argv) {
  using namespace preflab::cli;
  CLI::App app{"PrefLab command line: train, evaluate and analyse preference-learning runs.\n"
               "Exit codes: 0 ok, 1 failure (bad input, failed run), 2 bad usage."};
  app.require_subcommand(1);
  app.set_version_flag("--version", "preflab-cli 0.1.0");
  std::map<CLI::App *, Action> actions;
  for (auto add :
       {addTrainCommand, addSweepCommand, addMixCommand, addEvalCommand, addAnalyzeCommand, addSampleCommand,
        addExportCommand, addInspectCommand, addTokenizeCommand, addObjectivesCommand,
        addPretrainDiffusionCommand, addTrainOracleCommand, addGeneratePairsCommand, addLabelsCommand}) {
    auto action = add(app);
    actions[app.get_subcommands([](CLI::App *) { return true; }).back()] = action;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp &e) {
    return app.exit(e) == 0 ? kOk : kUsage;
  } catch (const CLI::CallForAllHelp &e) {
    return app.exit(e) == 0 ? kOk : kUsage;
  } catch (const CLI::Success &e) {
    return app.exit(e);
  } catch (const CLI::ParseError &e) {
    app.exit(e);
    return kUsage;
  }
  for (auto *sub : app.get_subcommands())
    return guarded(actions.at(sub));
  return kUsage;
}
