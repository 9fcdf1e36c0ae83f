"""Random-weight ModernBERT test models: global and local (sliding-window) attention layers
with their own RoPE theta, a window small enough (16 tokens) that the long text crosses it,
mean pooling with nomic-style prompts; a second one with every bias switched on and CLS
pooling. References from the eager attention of transformers."""

from _common import bpe_tokenizer, outdir, save_hf, save_st
from transformers import ModernBertConfig

out = outdir()
tok, special = bpe_tokenizer()


def modernbert(seed, **extra):
    config = ModernBertConfig(
        vocab_size=tok.get_vocab_size(),
        hidden_size=64,
        num_hidden_layers=4,
        num_attention_heads=4,
        intermediate_size=96,
        max_position_embeddings=512,
        global_attn_every_n_layers=2,
        local_attention=16,
        global_rope_theta=160000.0,
        local_rope_theta=10000.0,
        pad_token_id=tok.token_to_id("[PAD]"),
        cls_token_id=tok.token_to_id("[CLS]"),
        sep_token_id=tok.token_to_id("[SEP]"),
        bos_token_id=tok.token_to_id("[CLS]"),
        eos_token_id=tok.token_to_id("[SEP]"),
        **extra,
    )
    return save_hf(config, tok, special, seed=seed)


eager = {"attn_implementation": "eager"}
save_st(
    out,
    "modernbert-mean",
    "modernbert",
    modernbert(21),
    "mean",
    256,
    prompts={"query": "search_query: ", "document": "search_document: "},
    model_kwargs=eager,
)
save_st(
    out,
    "modernbert-biases-cls",
    "modernbert",
    modernbert(22, attention_bias=True, mlp_bias=True, norm_bias=True),
    "cls",
    200,
    model_kwargs=eager,
)
