"""Generates OUTDIR/rerank-xlmr-tiny/: a random-weight XLM-RoBERTa cross-encoder
(XLMRobertaForSequenceClassification, num_labels 1: RobertaClassificationHead on <s>) with its
reference scores (see _rerank.py).

    $PY scripts/testmodels/rerank_xlmr.py OUTDIR

The tokenizer is the MiniLM WordPiece one with RoBERTa's pair template (`<s> A </s></s> B </s>`,
written [CLS] A [SEP] [SEP] B [SEP]) and token type 0 throughout, as XLM-RoBERTa has one token
type. The padding id is 0 ([PAD]), so positions start at 1 (RoBERTa numbers positions after
the padding id): 64 tokens need 66 position embeddings.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _rerank  # noqa: E402
from tokenizers.processors import TemplateProcessing  # noqa: E402
from transformers import XLMRobertaConfig, XLMRobertaForSequenceClassification  # noqa: E402

MAX_LENGTH = 64

if __name__ == "__main__":
    out = _rerank.outdir()
    tok = _rerank.minilm_tokenizer()
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] [SEP] $B:0 [SEP]",
        special_tokens=[("[CLS]", cls), ("[SEP]", sep)],
    )
    config = XLMRobertaConfig(
        vocab_size=tok.get_vocab_size(), hidden_size=32, num_hidden_layers=2,
        num_attention_heads=4, intermediate_size=64, max_position_embeddings=MAX_LENGTH + 2,
        type_vocab_size=1, pad_token_id=0, bos_token_id=cls, eos_token_id=sep, num_labels=1,
        hidden_act="gelu",
    )
    config.architectures = ["XLMRobertaForSequenceClassification"]
    model = XLMRobertaForSequenceClassification(config)
    _rerank.random_init(model, std=0.5, seed=14)
    tokenizer = _rerank.fast_tokenizer(tok, False, unk_token="[UNK]", sep_token="[SEP]", pad_token="[PAD]",
                                       cls_token="[CLS]", mask_token="[MASK]", bos_token="[CLS]",
                                       eos_token="[SEP]")
    _rerank.save(model, tokenizer, out, "rerank-xlmr-tiny", "xlm-roberta", MAX_LENGTH)
