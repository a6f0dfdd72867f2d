// The `greffier` command line, run as a user would: subcommand wiring, exit codes, output.

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "generate/extractive_answerer.h"
#include "tests/common/test_util.h"

namespace greffier {
namespace {

struct Result {
  int code = -1;
  std::string output;  // stdout and stderr
};

Result RunGreffier(const std::string& args) {
  Result r;
  std::string cmd = std::string(GREFFIER_BINARY) + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) r.output.append(buf, n);
  int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

TEST(CliTest, UnknownCommandsAndFlagsAreUsageErrors) {
  Result r = RunGreffier("frobnicate");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("unknown command"), std::string::npos);
  r = RunGreffier("serve --data /tmp/x --no-such-flag");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("unknown flag --no-such-flag"), std::string::npos);
  EXPECT_EQ(RunGreffier("version").code, 0);
  // Bad values are named, and "--help" is never taken for a folder to write into.
  testing::ScratchDir dir;
  r = RunGreffier("serve --data " + dir.path().string() + " --min-evidence 1.5");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("--min-evidence must be a number from 0 to 1"), std::string::npos);
  r = RunGreffier("make-samples --help");
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.output.find("usage: greffier make-samples DIR"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists("--help"));
  r = RunGreffier("client ask question --min-evidence lots");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("--min-evidence wants a number"), std::string::npos);
}

TEST(CliTest, IngestThenAuditAndReembedOnADataDirectory) {
  testing::ScratchDir dir;
  const std::string samples = (dir.path() / "samples").string();
  const std::string data = (dir.path() / "data").string();
  ASSERT_EQ(RunGreffier("make-samples " + samples).code, 0);
  std::ofstream(dir.path() / "samples" / "junk.bin", std::ios::binary) << std::string(
      "\x7f"
      "ELF\0\0",
      6);

  Result r = RunGreffier("ingest --data " + data + " " + samples);
  EXPECT_EQ(r.code, 1) << r.output;                                        // the junk file failed
  EXPECT_NE(r.output.find("ingested: 5"), std::string::npos) << r.output;  // 4 PDFs + questions.txt
  EXPECT_NE(r.output.find("junk.bin"), std::string::npos);
  r = RunGreffier("ingest --data " + data + " " + samples + "/arrete-2024-117-stationnement.pdf");
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("unchanged: 1"), std::string::npos) << r.output;

  r = RunGreffier("audit verify --data " + data);
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("audit chain intact"), std::string::npos);
  r = RunGreffier("audit replay --data " + data + " 7");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.output.find("does not exist"), std::string::npos) << r.output;

  r = RunGreffier("reembed --data " + data + " --embedder lsa");
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("lsa-v1"), std::string::npos) << r.output;
}

TEST(CliTest, MakeModelAndGenerate) {
  testing::ScratchDir dir;
  const std::string model = (dir.path() / "tiny.gguf").string();
  Result r = RunGreffier("make-model --shape tiny --type q8_0 --out " + model);
  ASSERT_EQ(r.code, 0) << r.output;
  r = RunGreffier("generate --model " + model + " --prompt-ids 1,2,3 --max-tokens 4 --seed 1");
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("tokens/s"), std::string::npos) << r.output;
  r = RunGreffier("generate --model " + (dir.path() / "missing.gguf").string() + " --prompt hi");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.output.find("missing.gguf"), std::string::npos) << r.output;
}

// --dump-logits writes n_vocab floats per prompt token; a position's logits depend only on the
// tokens up to it (causal attention), whatever follows and however many threads run.
TEST(CliTest, DumpLogitsIsCausalAndThreadIndependent) {
  testing::ScratchDir dir;
  const std::string model = (dir.path() / "tiny.gguf").string();
  ASSERT_EQ(RunGreffier("make-model --shape tiny --type q8_0 --out " + model).code, 0);
  auto dump = [&](const std::string& ids, int threads) {
    const std::string out =
        (dir.path() / ("logits-" + ids + "-" + std::to_string(threads))).string();
    Result r = RunGreffier("generate --model " + model + " --prompt-ids " + ids + " --threads " +
                           std::to_string(threads) + " --dump-logits " + out);
    EXPECT_EQ(r.code, 0) << r.output;
    std::ifstream in(out, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::vector<float> v(bytes.size() / sizeof(float));
    std::memcpy(v.data(), bytes.data(), v.size() * sizeof(float));
    return v;
  };
  const std::vector<float> three = dump("1,2,3", 1);
  const std::vector<float> two = dump("1,2", 2);
  ASSERT_FALSE(two.empty());
  ASSERT_EQ(three.size() % 3, 0u);
  const size_t vocab = three.size() / 3;
  ASSERT_EQ(two.size(), 2 * vocab);
  float max_abs = 0;
  for (size_t i = 0; i < two.size(); ++i) {
    ASSERT_TRUE(std::isfinite(three[i]));
    EXPECT_NEAR(two[i], three[i], 1e-3f) << "logit " << i % vocab << " of position " << i / vocab;
    max_abs = std::max(max_abs, std::fabs(three[i]));
  }
  EXPECT_GT(max_abs, 0.0f);  // not a file of zeros
  // The third position sees a third token: its logits differ from the second's.
  EXPECT_FALSE(
      std::equal(three.begin() + vocab, three.begin() + 2 * vocab, three.begin() + 2 * vocab));
}

TEST(CliTest, EvalRetrievalOnATinyBeirSet) {
  testing::ScratchDir dir;
  std::ofstream(dir.path() / "corpus.jsonl")
      << R"({"_id": "d1", "title": "Cantine", "text": "Le repas de la cantine coûte 2,60 euros."})"
      << "\n"
      << R"({"_id": "d2", "title": "Piscine", "text": "La piscine municipale ferme en août."})"
      << "\n";
  std::ofstream(dir.path() / "queries.jsonl")
      << R"({"_id": "q1", "text": "prix du repas à la cantine", "answers": ["2,60 euros"]})"
      << "\n"
      << R"({"_id": "q2", "text": "quand ferme la piscine", "answers": ["En août"]})"
      << "\n";
  std::ofstream(dir.path() / "qrels.tsv") << "query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t1\n";
  const std::string files = " --corpus " + (dir.path() / "corpus.jsonl").string() + " --queries " +
                            (dir.path() / "queries.jsonl").string() + " --qrels " +
                            (dir.path() / "qrels.tsv").string();
  Result r = RunGreffier("eval retrieval --embedder hashing" + files);
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("| BM25 | 1.000 |"), std::string::npos) << r.output;
  r = RunGreffier("eval answers --embedder hashing" + files);
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("2 questions with known answers"), std::string::npos) << r.output;
  // Both answers are cited ("En août" matches "en août": case and articles aside).
  EXPECT_NE(r.output.find("\n| 100.0% | 100.0% |"), std::string::npos) << r.output;
  // Matched exactly, the capital E misses.
  r = RunGreffier("eval answers --embedder hashing --exact-match" + files);
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("\n| 50.0% |"), std::string::npos) << r.output;
  // The decoder path through the same measure: a random tiny model cites nothing, so every
  // answer is refused, and the table names the model.
  const std::string model = (dir.path() / "tiny.gguf").string();
  ASSERT_EQ(RunGreffier("make-model --shape tiny --type q8_0 --out " + model).code, 0);
  r = RunGreffier("eval answers --embedder hashing --max-tokens 8 --model " + model + files);
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("tiny.gguf sha256:"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("| 0.0% |"), std::string::npos) << r.output;
  r = RunGreffier("eval answers --embedder hashing --model " + model + ".missing" + files);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.output.find(".missing"), std::string::npos) << r.output;
  // The feature dump for tests/bench/answer_ranker_bench: a header naming every feature, then
  // one row per candidate sentence, the answering ones labelled 1.
  const std::string dump = (dir.path() / "features.tsv").string();
  r = RunGreffier("eval answers --embedder hashing --min-evidence 0 --dump-features " + dump +
                  files);
  ASSERT_EQ(r.code, 0) << r.output;
  std::ifstream in(dump);
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  EXPECT_EQ(line.rfind("question\tgroup\tsentence\tlabel\tbias\tcoverage", 0), 0u) << line;
  std::map<std::string, int> positives;
  size_t rows = 0;
  while (std::getline(in, line)) {
    ++rows;
    std::vector<std::string> f;
    std::stringstream fields(line);
    for (std::string x; std::getline(fields, x, '\t');) f.push_back(x);
    ASSERT_EQ(f.size(), 4u + generate::internal::kNumSentenceFeatures) << line;
    positives[f[0]] += f[3] == "1";
    EXPECT_EQ(f[1], f[0] == "q1" ? "d1" : "d2");
  }
  EXPECT_GE(rows, 2u);
  EXPECT_EQ(positives["q1"], 1);
  EXPECT_EQ(positives["q2"], 1);
}

}  // namespace
}  // namespace greffier
