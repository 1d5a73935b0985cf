#include "invkit/dist/sync.h"

#include <gtest/gtest.h>

#include <functional>
#include <thread>

#include "invkit/dist/group.h"
#include "invkit/train/losses.h"

namespace {

using invkit::dist::Group;

// Runs body(group) for each rank of an in-process group, one thread each, and
// returns each rank's failure message ("" when none).
std::vector<std::string> on_ranks(int world, const std::function<void(Group&)>& body) {
  auto groups = invkit::dist::local_groups(world);
  std::vector<std::string> errors(static_cast<size_t>(world));
  std::vector<std::thread> threads;
  for (int r = 0; r < world; ++r)
    threads.emplace_back([&, r] {
      try {
        body(*groups[static_cast<size_t>(r)]);
      } catch (const std::exception& e) {
        errors[static_cast<size_t>(r)] = e.what();
      }
    });
  for (auto& t : threads) t.join();
  return errors;
}

#define SKIP_WITHOUT_GLOO() \
  if (!invkit::dist::have_gloo()) GTEST_SKIP() << "this build has no Gloo"

TEST(DistSync, SliceOfSplitsEvenlyInRankOrder) {
  using invkit::dist::slice_of;
  EXPECT_EQ(slice_of(10, 17, 0, 2), std::make_pair(int64_t(10), int64_t(13)));
  EXPECT_EQ(slice_of(10, 17, 1, 2), std::make_pair(int64_t(13), int64_t(17)));
  EXPECT_EQ(slice_of(0, 2, 0, 3), std::make_pair(int64_t(0), int64_t(0)));  // a rank without rows
  EXPECT_EQ(slice_of(0, 2, 1, 3), std::make_pair(int64_t(0), int64_t(1)));
  EXPECT_EQ(slice_of(0, 2, 2, 3), std::make_pair(int64_t(1), int64_t(2)));
}

// Per-rank means weighted by each loss's normalizer give the global batch's
// gradient: uneven slices, a rank without rows, class weights, every loss.
TEST(DistSync, GradientsOfTheGlobalBatch) {
  SKIP_WITHOUT_GLOO();
  torch::manual_seed(3);
  const int64_t n = 7, k = 4;
  auto x = torch::randn({n, 5});
  auto y = torch::tensor({0, 3, 1, 1, 2, 0, 3}, torch::kLong);
  auto weight = torch::tensor({0.5, 2.0, 1.0, 0.25}, torch::kFloat);
  torch::nn::Linear reference(5, k);
  const std::vector<int64_t> counts{10, 3, 5, 1};
  for (const std::string name : {"ce", "ldam", "focal"})
    for (bool weighted : {false, true})
      for (int world : {2, 3}) {
        SCOPED_TRACE(name + (weighted ? " weighted" : "") + " world " + std::to_string(world));
        auto loss_fn = invkit::train::make_loss(name, counts);
        const torch::Tensor w = weighted ? weight : torch::Tensor();
        // One process: the whole batch.
        auto single = std::dynamic_pointer_cast<torch::nn::LinearImpl>(reference->clone());
        (*loss_fn)(single->forward(x), y, w).backward();
        std::vector<std::vector<torch::Tensor>> grads(static_cast<size_t>(world));
        const int64_t batch = world == 3 ? 2 : n;  // world 3: batch of 2, so one rank has no rows
        auto errors = on_ranks(world, [&](Group& g) {
          auto mine = std::dynamic_pointer_cast<torch::nn::LinearImpl>(reference->clone());
          const auto [a, b] = invkit::dist::slice_of(0, batch, g.rank(), g.world());
          double local = 0;
          if (a < b) {
            auto ys = y.slice(0, a, b);
            (*loss_fn)(mine->forward(x.slice(0, a, b)), ys, w).backward();
            local = loss_fn->normalizer(ys, w);
          }
          invkit::dist::reduce_gradients(g, mine->parameters(), local, {});
          for (auto& p : mine->parameters()) grads[static_cast<size_t>(g.rank())].push_back(p.grad().clone());
        });
        for (const auto& e : errors) ASSERT_EQ(e, "");
        if (batch != n) {  // the reference for a batch of 2
          single = std::dynamic_pointer_cast<torch::nn::LinearImpl>(reference->clone());
          (*loss_fn)(single->forward(x.slice(0, 0, batch)), y.slice(0, 0, batch), w).backward();
        }
        auto want = single->parameters();
        for (int r = 0; r < world; ++r)
          for (size_t i = 0; i < want.size(); ++i) {
            EXPECT_TRUE(torch::equal(grads[static_cast<size_t>(r)][i], grads[0][i])) << "rank " << r;  // the same bits
            EXPECT_TRUE(torch::allclose(grads[static_cast<size_t>(r)][i], want[i].grad(), 1e-5, 1e-6))
                << grads[static_cast<size_t>(r)][i] << want[i].grad();
          }
      }
}

TEST(DistSync, ExtrasAndWeightsAreSummed) {
  SKIP_WITHOUT_GLOO();
  std::vector<invkit::dist::Reduced> got(2);
  auto errors = on_ranks(2, [&](Group& g) {
    auto p = torch::ones({3}, torch::kFloat).requires_grad_();
    (p * (g.rank() + 1.0)).sum().backward();  // gradients 1 and 2
    got[static_cast<size_t>(g.rank())] =
        invkit::dist::reduce_gradients(g, {p}, g.rank() == 0 ? 1.0 : 3.0, {1.5, 10.0 * g.rank()}, 4);
    EXPECT_TRUE(torch::equal(p.grad(), torch::full({3}, (1.0 * 1 + 2.0 * 3) / 4, torch::kFloat)));
  });
  for (const auto& e : errors) ASSERT_EQ(e, "");
  for (const auto& r : got) {
    EXPECT_EQ(r.weight, 4.0);
    EXPECT_EQ(r.extras, (std::vector<double>{3.0, 10.0}));
  }
}

TEST(DistSync, BroadcastStateCopiesRankZero) {
  SKIP_WITHOUT_GLOO();
  std::vector<torch::nn::BatchNorm2d> nets;
  for (int r = 0; r < 2; ++r) {
    nets.emplace_back(3);
    torch::NoGradGuard ng;
    nets.back()->weight.fill_(r + 1.0);
    nets.back()->running_mean.fill_(r + 0.5);
    nets.back()->num_batches_tracked.fill_(r * 7 + 3);
  }
  auto errors = on_ranks(2, [&](Group& g) { invkit::dist::broadcast_state(g, *nets[static_cast<size_t>(g.rank())]); });
  for (const auto& e : errors) ASSERT_EQ(e, "");
  EXPECT_TRUE(torch::equal(nets[1]->weight, torch::ones({3})));
  EXPECT_TRUE(torch::equal(nets[1]->running_mean, torch::full({3}, 0.5)));
  EXPECT_EQ(nets[1]->num_batches_tracked.item<int64_t>(), 3);
  EXPECT_EQ(invkit::dist::state_digest(*nets[0]), invkit::dist::state_digest(*nets[1]));
}

TEST(DistSync, CheckSameStateNamesTheRankThatDiffers) {
  SKIP_WITHOUT_GLOO();
  std::vector<torch::nn::Linear> nets;
  torch::manual_seed(1);
  nets.emplace_back(2, 2);
  for (int r = 1; r < 3; ++r) nets.emplace_back(std::dynamic_pointer_cast<torch::nn::LinearImpl>(nets[0]->clone()));
  auto check = [&](Group& g) { invkit::dist::check_same_state(g, *nets[static_cast<size_t>(g.rank())], "at step 5"); };
  for (const auto& e : on_ranks(3, check)) EXPECT_EQ(e, "");
  {
    torch::NoGradGuard ng;
    nets[2]->bias[1].add_(1e-7);  // one value, one bit or so
  }
  for (const auto& e : on_ranks(3, check))
    EXPECT_EQ(e, "the parameters of rank 2 differ from rank 0's at step 5 (ranks must run the same invkit build with "
                 "the same options and data)");
}

TEST(DistSync, EveryRankAgreesOnAStop) {
  SKIP_WITHOUT_GLOO();
  std::vector<invkit::dist::Stop> stops(3);
  auto errors = on_ranks(3, [&](Group& g) {
    stops[static_cast<size_t>(g.rank())] = invkit::dist::agree_on_stop(g, g.rank() == 0 ? 0 : 13 + g.rank());
  });
  for (const auto& e : errors) ASSERT_EQ(e, "");
  for (const auto& s : stops) {
    EXPECT_EQ(s.signal, 14);  // the lowest rank's
    EXPECT_EQ(s.rank, 1);
  }
  auto none = on_ranks(2, [&](Group& g) { EXPECT_EQ(invkit::dist::agree_on_stop(g, 0).signal, 0); });
  for (const auto& e : none) ASSERT_EQ(e, "");
}

}  // namespace
