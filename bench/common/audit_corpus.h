#pragma once
// The benchmark corpus, shared by the stage micro-benchmarks and the end-to-end harness so they
// measure the same data. The generator itself lives in tests/support/redact_corpus.h, because
// the redactor's differential test runs on the very same lines.
#include "support/redact_corpus.h"

namespace auditship::bench {

using Corpus = testing::Corpus;

inline Corpus make_corpus(std::size_t lines) { return testing::Generator().make(lines); }

}  // namespace auditship::bench
