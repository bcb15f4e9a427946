#include "common/batches.h"

#include "auditship/tail/line_splitter.h"

namespace auditship::bench {

std::string corpus_text(const Corpus& corpus) {
  std::string text;
  text.reserve(corpus.bytes + corpus.lines.size());
  for (const auto& l : corpus.lines) {
    text += l;
    text += '\n';
  }
  return text;
}

std::vector<Batch> corpus_batches(const Corpus& corpus, std::size_t chunk_bytes) {
  const std::string text = corpus_text(corpus);
  auto source = std::make_shared<SourceFile>();
  source->path = "/var/log/app/bench.audit.jsonl";
  tail::LineSplitter splitter(1 << 20, 1024);
  std::vector<Batch> out;
  for (std::size_t at = 0; at < text.size(); at += chunk_bytes) {
    Batch b;
    b.source = source;
    b.begin_offset = splitter.line_offset();
    splitter.begin(b.input);
    b.input.append(text, at, chunk_bytes);
    b.end_offset = splitter.split(b.input, b.records);
    out.push_back(std::move(b));
  }
  return out;
}

Batch copy_batch(const Batch& b) {
  Batch c;
  c.source = b.source;
  c.begin_offset = b.begin_offset;
  c.end_offset = b.end_offset;
  c.input = b.input;
  c.records = b.records;
  return c;
}

}  // namespace auditship::bench
