# Dynamic overlap's maths: the one-coin weighted-vote posterior and smoothed
# reliability (included from CMakeLists.txt in this folder).
target_sources(tessera_algo PRIVATE vote_posterior.cc)

tessera_test(algo_vote_posterior_test
  SOURCES vote_posterior_test.cc
  DEPS tessera_algo)
