#pragma once
// Cuts the benchmark corpus into tailer-shaped batches (one chunk of whole lines each), so
// the stage benchmarks feed stages exactly what the tailer would.
#include <string>
#include <vector>

#include "auditship/pipeline/batch.h"
#include "common/audit_corpus.h"

namespace auditship::bench {

// The corpus as one file's bytes (lines joined by '\n').
std::string corpus_text(const Corpus& corpus);
// Batches of about `chunk_bytes` of whole lines each, records pointing into their input.
std::vector<Batch> corpus_batches(const Corpus& corpus, std::size_t chunk_bytes = 256 << 10);
// A fresh copy of a batch (stages rewrite payloads in place).
Batch copy_batch(const Batch& b);

}  // namespace auditship::bench
