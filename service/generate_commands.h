#ifndef GREFFIER_SERVICE_GENERATE_COMMANDS_H_
#define GREFFIER_SERVICE_GENERATE_COMMANDS_H_

namespace greffier::service {

// `greffier generate --model FILE.gguf (--prompt TEXT | --prompt-ids 1,2,3)
//  [--chat] [--template NAME] [--threads N] [--max-tokens N] [--seed S]
//  [--temperature T] [--top-k K] [--top-p P] [--min-p P]
//  [--repeat-penalty R] [--ctx N] [--stop TEXT]...`
// Streams the generated text to stdout, then prints prompt and generation
// speed (tokens/s) to stderr. argv[0] is the subcommand name.
int RunGenerateCommand(int argc, char** argv);

// `greffier make-model --shape tinyllama|qwen2-0.5b|tiny|tiny-qwen2
//  --type f16|q8_0|q4_0|q4_k_m|... --out FILE [--seed S]`
// Writes a random-weight GGUF model for tests and benchmarks.
int RunMakeModelCommand(int argc, char** argv);

}  // namespace greffier::service

#endif  // GREFFIER_SERVICE_GENERATE_COMMANDS_H_
