"""A random-weight XLM-RoBERTa test model (positions from padding_idx + 1, a SentencePiece
Unigram tokenizer, <pad> = 1), with mean pooling and multilingual-e5's prompts."""

from _common import outdir, save_hf, save_st, unigram_tokenizer
from transformers import XLMRobertaConfig

out = outdir()
tok, special = unigram_tokenizer()
config = XLMRobertaConfig(
    vocab_size=tok.get_vocab_size(),
    hidden_size=64,
    num_hidden_layers=3,
    num_attention_heads=4,
    intermediate_size=128,
    max_position_embeddings=130,  # 128 tokens: positions 2..129
    type_vocab_size=1,
    pad_token_id=1,
    bos_token_id=0,
    eos_token_id=2,
)
save_st(
    out,
    "xlm-roberta-mean",
    "xlm-roberta",
    save_hf(config, tok, special, seed=11),
    "mean",
    128,
    prompts={"query": "query: ", "passage": "passage: "},
)
