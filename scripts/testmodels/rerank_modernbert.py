"""Generates OUTDIR/rerank-modernbert-tiny/: a random-weight ModernBERT cross-encoder
(ModernBertForSequenceClassification, num_labels 1, classifier_pooling "mean") with its
reference scores (see _rerank.py).

    $PY scripts/testmodels/rerank_modernbert.py OUTDIR

Three layers, global attention every second layer and a local window of 16 tokens, so that
pairs of up to 64 tokens go through both kinds of layer; mean pooling over the mask, then the
head (dense, GELU, LayerNorm without bias) and the classifier. The tokenizer is the MiniLM
WordPiece one with its BERT pair template (ModernBERT reads no token types).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _rerank  # noqa: E402
from transformers import ModernBertConfig, ModernBertForSequenceClassification  # noqa: E402

MAX_LENGTH = 64

if __name__ == "__main__":
    out = _rerank.outdir()
    tok = _rerank.minilm_tokenizer()
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    config = ModernBertConfig(
        vocab_size=tok.get_vocab_size(), hidden_size=32, intermediate_size=64,
        num_hidden_layers=3, num_attention_heads=4, max_position_embeddings=MAX_LENGTH,
        global_attn_every_n_layers=2, local_attention=16, pad_token_id=0, cls_token_id=cls,
        sep_token_id=sep, bos_token_id=cls, eos_token_id=sep, num_labels=1,
        classifier_pooling="mean", classifier_activation="gelu",
    )
    config.architectures = ["ModernBertForSequenceClassification"]
    model = ModernBertForSequenceClassification(config)
    _rerank.random_init(model, std=0.5, seed=14)
    tokenizer = _rerank.fast_tokenizer(tok, False, unk_token="[UNK]", sep_token="[SEP]", pad_token="[PAD]",
                                       cls_token="[CLS]", mask_token="[MASK]")
    _rerank.save(model, tokenizer, out, "rerank-modernbert-tiny", "modernbert", MAX_LENGTH)
