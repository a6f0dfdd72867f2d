#include "index/beir.h"

#include <cmath>
#include <fstream>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/common/test_util.h"

namespace greffier::index {
namespace {

using ::testing::HasSubstr;

void WriteFile(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

TEST(JsonTest, StringsNumbersAndSkippedValues) {
  auto fields =
      ParseJsonObjectFields(R"( {"_id": "d1", "title": "Caf\u00e9 \"noir\"\n", "n": -12.5e3,)"
                            R"( "answers": ["a", {"x": [1, true, null]}], "ok": false,)"
                            R"( "emoji": "\ud83d\ude00", "slash": "a\/b", "t": "\u00E9t\u00e9"} )");
  ASSERT_TRUE(fields.ok()) << fields.status();
  EXPECT_EQ((*fields)["_id"], "d1");
  EXPECT_EQ((*fields)["title"], "Caf\xC3\xA9 \"noir\"\n");
  EXPECT_EQ((*fields)["n"], "-12.5e3");
  EXPECT_EQ((*fields)["emoji"], "\xF0\x9F\x98\x80");
  EXPECT_EQ((*fields)["slash"], "a/b");
  EXPECT_EQ((*fields)["t"], "été");
  EXPECT_EQ(fields->count("answers"), 0u);
  EXPECT_EQ(fields->count("ok"), 0u);
  // Raw UTF-8 passes through untouched.
  EXPECT_EQ((*ParseJsonObjectFields(R"({"a": "délibération"})"))["a"], "délibération");
  EXPECT_TRUE(ParseJsonObjectFields("{}")->empty());
}

TEST(JsonTest, MalformedInputIsAnError) {
  for (const char* bad :
       {"", "[]", "{", R"({"a" "b"})", R"({"a": "b")", R"({"a": "b"} x)", R"({"a": "\q"})",
        R"({"a": "\u12"})", R"({"a": "\ud83d"})", R"({"a": "\ude00"})", R"({"a": [1, 2})",
        R"({"a": tru})", R"({"a": -})", R"({"a": 1.})", R"({"a": "b",})", R"({a: 1})"}) {
    auto fields = ParseJsonObjectFields(bad);
    EXPECT_EQ(fields.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  // Deep nesting is refused rather than recursing without bound.
  std::string deep = R"({"a": )" + std::string(10000, '[') + std::string(10000, ']') + "}";
  EXPECT_FALSE(ParseJsonObjectFields(deep).ok());
}

TEST(BeirTest, ReadsADataset) {
  testing::ScratchDir dir;
  WriteFile(dir.path() / "corpus.jsonl",
            "\xEF\xBB\xBF{\"_id\": \"d1\", \"title\": \"T1\", \"text\": "
            "\"Le conseil\"}\r\n"
            "\n"
            "{\"_id\": \"d2\", \"text\": \"Le budget\", \"extra\": [1]}\n");
  WriteFile(dir.path() / "queries.jsonl",
            "{\"_id\": \"q1\", \"text\": \"Quel budget ?\", "
            "\"answers\": [\"x\"], \"answer_starts\": [3]}\n");
  WriteFile(dir.path() / "qrels.tsv", "query-id\tcorpus-id\tscore\nq1\td2\t1\nq1\td1\t0\n");
  auto set = ReadBeirDataset(dir.path());
  ASSERT_TRUE(set.ok()) << set.status();
  ASSERT_EQ(set->corpus.size(), 2u);
  EXPECT_EQ(set->corpus[0].id, "d1");
  EXPECT_EQ(set->corpus[0].title, "T1");
  EXPECT_EQ(set->corpus[0].text, "Le conseil");
  EXPECT_EQ(set->corpus[1].title, "");
  ASSERT_EQ(set->queries.size(), 1u);
  EXPECT_EQ(set->queries[0].text, "Quel budget ?");
  EXPECT_EQ(set->qrels.at("q1").at("d2"), 1);
  EXPECT_EQ(set->qrels.at("q1").at("d1"), 0);
}

TEST(BeirTest, ErrorsNameTheFileAndLine) {
  testing::ScratchDir dir;
  const auto corpus = dir.path() / "corpus.jsonl";
  WriteFile(corpus, "{\"_id\": \"d1\", \"text\": \"a\"}\n{\"_id\": \"d2\", \n");
  auto docs = ReadBeirCorpus(corpus);
  EXPECT_EQ(docs.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(docs.status().message()), HasSubstr("corpus.jsonl:2"));

  WriteFile(corpus, "{\"_id\": \"d1\"}\n{\"_id\": \"d1\"}\n");
  docs = ReadBeirCorpus(corpus);
  EXPECT_THAT(std::string(docs.status().message()), HasSubstr("duplicate"));

  WriteFile(corpus, "{\"text\": \"no id\"}\n");
  EXPECT_FALSE(ReadBeirCorpus(corpus).ok());

  const auto queries = dir.path() / "queries.jsonl";
  WriteFile(queries, "{\"_id\": \"q1\"}\n");
  EXPECT_THAT(std::string(ReadBeirQueries(queries).status().message()), HasSubstr("text"));

  const auto qrels = dir.path() / "qrels.tsv";
  WriteFile(qrels, "q1\td1\t1\nq1\td2\n");
  EXPECT_THAT(std::string(ReadBeirQrels(qrels).status().message()), HasSubstr("qrels.tsv:2"));
  WriteFile(qrels, "q1\td1\t1\nq2\td2\tone\n");
  EXPECT_FALSE(ReadBeirQrels(qrels).ok());
  WriteFile(qrels, "q1\td1\t1\nq1\td1\t1\n");
  EXPECT_FALSE(ReadBeirQrels(qrels).ok());

  EXPECT_EQ(ReadBeirCorpus(dir.path() / "absent.jsonl").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(RetrievalEvaluatorTest, MetricsFollowTheirDefinitions) {
  RetrievalEvaluator evaluator;
  // Query A: its one relevant document is third.
  evaluator.AddQuery({{"r", 1}}, {"x", "y", "r", "z"});
  // Query B: two relevant documents, at ranks 1 and 12.
  std::vector<std::string> ranked_b = {"r1"};
  for (int i = 0; i < 10; ++i) ranked_b.push_back(absl::StrCat("n", i));
  ranked_b.push_back("r2");
  evaluator.AddQuery({{"r1", 1}, {"r2", 1}, {"irrelevant", 0}}, ranked_b);
  // Query C: nothing relevant is known; ignored.
  evaluator.AddQuery({{"r", 0}}, {"r"});

  RetrievalMetrics m = evaluator.Summary();
  EXPECT_EQ(m.queries, 2u);
  EXPECT_DOUBLE_EQ(m.recall_at_1, (0 + 0.5) / 2);
  EXPECT_DOUBLE_EQ(m.recall_at_5, (1 + 0.5) / 2);
  EXPECT_DOUBLE_EQ(m.recall_at_10, (1 + 0.5) / 2);
  EXPECT_DOUBLE_EQ(m.recall_at_20, (1 + 1.0) / 2);
  EXPECT_DOUBLE_EQ(m.mrr_at_10, (1.0 / 3 + 1.0) / 2);
  const double ndcg_a = (1 / std::log2(4.0)) / 1.0;
  const double ndcg_b = 1.0 / (1.0 + 1 / std::log2(3.0));
  EXPECT_NEAR(m.ndcg_at_10, (ndcg_a + ndcg_b) / 2, 1e-12);

  EXPECT_EQ(RetrievalEvaluator().Summary().queries, 0u);
}

TEST(RetrievalEvaluatorTest, RepeatedIdsCountOnce) {
  RetrievalEvaluator evaluator;
  evaluator.AddQuery({{"r", 1}}, {"r", "r", "r"});
  RetrievalMetrics m = evaluator.Summary();
  EXPECT_DOUBLE_EQ(m.recall_at_5, 1.0);
  EXPECT_DOUBLE_EQ(m.ndcg_at_10, 1.0);
}

}  // namespace
}  // namespace greffier::index
