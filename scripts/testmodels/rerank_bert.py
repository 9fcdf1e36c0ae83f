"""Generates OUTDIR/rerank-bert-tiny/: a random-weight BERT cross-encoder
(BertForSequenceClassification, num_labels 1, sigmoid activation, maximum length 64) with its
reference scores (see _rerank.py).

    $PY scripts/testmodels/rerank_bert.py OUTDIR [--size l6]

`--size l6` also writes OUTDIR/rerank-bert-l6/, the shape of cross-encoder/ms-marco-MiniLM-L6-v2
(6 layers, hidden 384, 12 heads, intermediate 1536, 512 tokens): random weights, for measuring
reranking latency (docs/benchmarks.md), not for quality.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _rerank  # noqa: E402
from transformers import BertConfig, BertForSequenceClassification  # noqa: E402

SIZES = {
    "tiny": dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                 intermediate_size=64, max_position_embeddings=64),
    "l6": dict(hidden_size=384, num_hidden_layers=6, num_attention_heads=12,
               intermediate_size=1536, max_position_embeddings=512),
}


def build(out, size):
    tok = _rerank.minilm_tokenizer()  # BERT's own pair template: [CLS] A [SEP] B [SEP], types 0/1
    config = BertConfig(vocab_size=tok.get_vocab_size(), num_labels=1, type_vocab_size=2,
                        hidden_act="gelu", pad_token_id=0, **SIZES[size])
    config.architectures = ["BertForSequenceClassification"]
    model = BertForSequenceClassification(config)
    _rerank.random_init(model, std=0.5 if size == "tiny" else 0.05, seed=14)
    tokenizer = _rerank.fast_tokenizer(tok, True, unk_token="[UNK]", sep_token="[SEP]", pad_token="[PAD]",
                                       cls_token="[CLS]", mask_token="[MASK]")
    _rerank.save(model, tokenizer, out, f"rerank-bert-{size}", "bert",
                 SIZES[size]["max_position_embeddings"])


if __name__ == "__main__":
    out = _rerank.outdir()
    build(out, "tiny")
    if sys.argv[2:4] == ["--size", "l6"]:
        build(out, "l6")
