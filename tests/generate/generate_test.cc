// Sampling, stop conditions, streaming and cancellation of Generate().
#include <atomic>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "generate/decoder.h"
#include "generate/gguf_writer.h"
#include "generate/model.h"
#include "generate/model_maker.h"
#include "generate/sampler.h"
#include "gtest/gtest.h"

namespace greffier::generate {
namespace {

std::unique_ptr<Model> TinyModel() {
  MakeModelOptions o;
  o.shape = TinyShape("llama");
  o.type = "q8_0";
  GgufWriter w;
  EXPECT_TRUE(BuildRandomModel(o, &w).ok());
  auto bytes = w.Serialize();
  auto f = GgufFile::OpenFromMemory(*bytes, "tiny.gguf");
  EXPECT_TRUE(f.ok());
  auto m = Model::FromGguf(std::move(*f));
  EXPECT_TRUE(m.ok()) << m.status();
  return std::move(*m);
}

// Every token's text is "<id>," so stop strings can be aimed at known ids.
std::string Piece(int32_t id) { return std::to_string(id) + ","; }

TEST(SamplerTest, GreedyPicksFirstMaximum) {
  Sampler s({});
  std::vector<float> logits = {0.f, 3.f, 1.f, 3.f};
  EXPECT_EQ(s.Sample(&logits, {}), 1);
}

TEST(SamplerTest, SameSeedSameTokensDifferentSeedDifferentTokens) {
  SamplerOptions o;
  o.temperature = 1.5f;
  std::vector<float> base(100);
  for (int i = 0; i < 100; ++i) base[i] = static_cast<float>(i % 7);
  auto run = [&](uint64_t seed) {
    o.seed = seed;
    Sampler s(o);
    std::vector<int32_t> out;
    for (int i = 0; i < 50; ++i) {
      std::vector<float> l = base;
      out.push_back(s.Sample(&l, out));
    }
    return out;
  };
  EXPECT_EQ(run(42), run(42));
  EXPECT_NE(run(42), run(43));
}

TEST(SamplerTest, TopKTopPMinPRestrictTheCandidates) {
  std::vector<float> base = {5.f, 4.f, 3.f, 0.f, -1.f, -2.f};
  auto seen_with = [&](SamplerOptions o) {
    std::map<int32_t, int> seen;
    for (uint64_t seed = 0; seed < 300; ++seed) {
      o.seed = seed;
      Sampler s(o);
      std::vector<float> l = base;
      seen[s.Sample(&l, {})]++;
    }
    return seen;
  };
  SamplerOptions o;
  o.temperature = 5.f;  // flat enough that every token would appear
  EXPECT_EQ(seen_with(o).size(), 6u);
  SamplerOptions k = o;
  k.top_k = 2;
  auto sk = seen_with(k);
  EXPECT_EQ(sk.size(), 2u);
  EXPECT_TRUE(sk.count(0) && sk.count(1));
  SamplerOptions p;
  p.temperature = 1.f;
  p.top_p = 0.5f;  // p(0) = 0.66 > 0.5: only the best token
  EXPECT_EQ(seen_with(p).size(), 1u);
  SamplerOptions m;
  m.temperature = 1.f;
  m.min_p = 0.3f;  // p(1)/p(0) = 0.37, p(2)/p(0) = 0.14
  auto sm = seen_with(m);
  EXPECT_EQ(sm.size(), 2u);
}

TEST(SamplerTest, RepetitionPenaltyDemotesSeenTokens) {
  SamplerOptions o;
  o.repeat_penalty = 2.f;
  Sampler s(o);
  std::vector<float> l = {3.f, 2.f, -1.f};
  EXPECT_EQ(s.Sample(&l, {0}), 1);  // 3/2 = 1.5 < 2
  EXPECT_FLOAT_EQ(l[0], 1.5f);
  std::vector<float> neg = {-1.f, -1.5f};
  s.Sample(&neg, {0});
  EXPECT_FLOAT_EQ(neg[0], -2.f);
}

TEST(GenerateTest, MaxTokensStreamingAndDeterminism) {
  auto model = TinyModel();
  auto dec = Decoder::Create(model.get(), {.n_threads = 2, .n_ctx = 128});
  ASSERT_TRUE(dec.ok());
  GenerateOptions o;
  o.max_tokens = 12;
  o.stop_tokens = {-5};  // never: run to max_tokens
  o.sampling.temperature = 0.9f;
  o.sampling.seed = 7;
  o.detokenize = Piece;
  std::string streamed;
  std::vector<int32_t> streamed_ids;
  o.on_token = [&](int32_t id, std::string_view text) {
    if (id >= 0) streamed_ids.push_back(id);
    streamed += text;
    return true;
  };
  auto r1 = Generate(dec->get(), {1, 5, 9}, o);
  ASSERT_TRUE(r1.ok()) << r1.status();
  EXPECT_EQ(r1->tokens.size(), 12u);
  EXPECT_EQ(r1->stop_reason, StopReason::kMaxTokens);
  EXPECT_EQ(streamed_ids, r1->tokens);
  EXPECT_EQ(streamed, r1->text);
  std::string expected_text;
  for (int32_t t : r1->tokens) expected_text += Piece(t);
  EXPECT_EQ(r1->text, expected_text);
  EXPECT_EQ(r1->prompt_tokens, 3);
  // Same seed, same tokens (the cache is reset by Generate).
  o.on_token = nullptr;
  auto r2 = Generate(dec->get(), {1, 5, 9}, o);
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(r2->tokens, r1->tokens);
  // Greedy equals the argmax of a manual forward pass.
  GenerateOptions g;
  g.max_tokens = 3;
  g.stop_tokens = {-5};
  auto rg = Generate(dec->get(), {1, 5, 9}, g);
  ASSERT_TRUE(rg.ok());
  (*dec)->Truncate(0);
  std::vector<float> logits;
  ASSERT_TRUE((*dec)->Forward({1, 5, 9}, &logits).ok());
  int32_t first =
      static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
  EXPECT_EQ(rg->tokens[0], first);
}

TEST(GenerateTest, StopTokenAndStopString) {
  auto model = TinyModel();
  auto dec = Decoder::Create(model.get(), {.n_threads = 1, .n_ctx = 128});
  ASSERT_TRUE(dec.ok());
  GenerateOptions g;
  g.max_tokens = 10;
  g.stop_tokens = {-5};
  g.detokenize = Piece;
  auto free_run = Generate(dec->get(), {1, 2, 3}, g);
  ASSERT_TRUE(free_run.ok());
  ASSERT_EQ(free_run->tokens.size(), 10u);
  const std::vector<int32_t>& toks = free_run->tokens;

  // Stop token: the 4th generated token ends generation and is not output
  // (unless it occurred earlier).
  int at = 3;
  while (at > 0 && std::find(toks.begin(), toks.begin() + at, toks[at]) != toks.begin() + at) {
    --at;
  }
  GenerateOptions st = g;
  st.stop_tokens = {toks[at]};
  auto r = Generate(dec->get(), {1, 2, 3}, st);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->stop_reason, StopReason::kEndOfSequence);
  EXPECT_EQ(r->tokens, std::vector<int32_t>(toks.begin(), toks.begin() + at));

  // Stop string spanning two tokens: text is cut before it, and the held
  // back prefix is never streamed.
  std::string stop = "," + Piece(toks[5]) + Piece(toks[6]).substr(0, 1);
  GenerateOptions ss = g;
  ss.stop_strings = {stop};
  std::string streamed;
  ss.on_token = [&](int32_t, std::string_view text) {
    streamed += text;
    return true;
  };
  r = Generate(dec->get(), {1, 2, 3}, ss);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->stop_reason, StopReason::kStopString);
  std::string full = free_run->text;
  EXPECT_EQ(r->text, full.substr(0, full.find(stop)));
  EXPECT_EQ(streamed, r->text);
  EXPECT_EQ(r->text.find(stop), std::string::npos);
}

TEST(GenerateTest, CallbackAndCancellationStopGeneration) {
  auto model = TinyModel();
  auto dec = Decoder::Create(model.get(), {.n_threads = 2, .n_ctx = 512});
  ASSERT_TRUE(dec.ok());
  GenerateOptions g;
  g.max_tokens = 5;
  g.stop_tokens = {-5};
  int calls = 0;
  g.on_token = [&](int32_t, std::string_view) { return ++calls < 3; };
  auto r = Generate(dec->get(), {1}, g);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->stop_reason, StopReason::kCallback);
  EXPECT_EQ(r->tokens.size(), 3u);

  // Cancellation from another thread while generating.
  std::atomic<bool> cancel{false};
  std::atomic<int> produced{0};
  GenerateOptions c;
  c.max_tokens = 400;
  c.stop_tokens = {-5};
  c.cancel = &cancel;
  c.on_token = [&](int32_t, std::string_view) {
    produced++;
    return true;
  };
  std::thread canceller([&] {
    while (produced.load() < 5) std::this_thread::yield();
    cancel.store(true);
  });
  r = Generate(dec->get(), {1}, c);
  canceller.join();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->stop_reason, StopReason::kCancelled);
  EXPECT_LT(r->tokens.size(), 400u);
  EXPECT_GE(r->tokens.size(), 5u);

  // Context full.
  auto small = Decoder::Create(model.get(), {.n_threads = 1, .n_ctx = 8});
  GenerateOptions f;
  f.max_tokens = 100;
  f.stop_tokens = {-5};
  r = Generate(small->get(), {1, 2, 3}, f);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->stop_reason, StopReason::kContextFull);
  EXPECT_EQ(r->tokens.size(), 6u);
}

TEST(GenerateTest, BadInputsAreErrors) {
  auto model = TinyModel();
  auto dec = Decoder::Create(model.get(), {.n_threads = 1, .n_ctx = 16});
  GenerateOptions g;
  EXPECT_FALSE(Generate(dec->get(), {}, g).ok());
  g.stop_strings = {"x"};
  EXPECT_FALSE(Generate(dec->get(), {1}, g).ok());  // no detokenizer
  GenerateOptions big;
  EXPECT_FALSE(Generate(dec->get(), std::vector<int32_t>(40, 1), big).ok());
}

}  // namespace
}  // namespace greffier::generate
