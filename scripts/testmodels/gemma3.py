"""Generates OUTDIR/embeddinggemma-tiny: a random-weight Gemma 3 text model in the
sentence-transformers layout of google/embeddinggemma-300m (bidirectional attention with
sliding-window and global layers, mean pooling, two bias-free Dense projections, Normalize,
task prompts, <bos> prepended and <eos> appended by the tokenizer), plus references.json with
the vectors sentence-transformers and transformers compute for it.

    PY=$(scripts/python-env); $PY scripts/testmodels/gemma3.py target/test-models

Deterministic (fixed seed); takes seconds.
"""

import os
import sys

import torch
from safetensors.torch import save_file
from tokenizers import Tokenizer, processors
from transformers import AutoModel, Gemma3TextConfig, Gemma3TextModel
from sentence_transformers import SentenceTransformer

from _decoder import LONG, TEXTS, byte_level_bpe, references, write_json

NAME = "embeddinggemma-tiny"
HIDDEN = 64
DENSE = 256  # the real model projects 768 -> 3072 -> 768
WINDOW = 32  # bidirectional: a token sees those fewer than 32 // 2 + 1 = 17 positions away
PROMPTS = {
    "query": "task: search result | query: ",
    "document": "title: none | text: ",
    "Retrieval-query": "task: search result | query: ",
    "Retrieval-document": "title: none | text: ",
    "Classification": "task: classification | query: ",
    "Clustering": "task: clustering | query: ",
    "STS": "task: sentence similarity | query: ",
}
DOCUMENT_PROMPT = PROMPTS["document"]


def tokenizer() -> Tokenizer:
    """A byte-level BPE trained on _decoder's texts with Gemma's special tokens at Gemma's ids
    (<pad> 0, <eos> 1, <bos> 2, <unk> 3), wrapping every text in <bos> ... <eos> as embeddinggemma's does."""
    tok = byte_level_bpe(["<pad>", "<eos>", "<bos>", "<unk>"], unk_token="<unk>")
    tok.post_processor = processors.TemplateProcessing(
        single="<bos>:0 $A:0 <eos>:0",
        pair="<bos>:0 $A:0 <eos>:0 $B:1 <eos>:1",
        special_tokens=[("<bos>", tok.token_to_id("<bos>")), ("<eos>", tok.token_to_id("<eos>"))],
    )
    return tok


def randomise(model: torch.nn.Module, g: torch.Generator) -> None:
    """Weights large enough that attention, RoPE and every norm change the output (Gemma's
    RMSNorm multiplies by 1 + weight)."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = torch.randn(p.shape, generator=g)
            p.copy_((0.2 if name.endswith("norm.weight") else 0.15) * noise)


def dense(out: str, path: str, n_in: int, n_out: int, g: torch.Generator) -> None:
    """A sentence-transformers Dense module: Linear without bias, identity activation."""
    os.makedirs(os.path.join(out, path), exist_ok=True)
    write_json(
        os.path.join(out, path, "config.json"),
        {
            "in_features": n_in,
            "out_features": n_out,
            "bias": False,
            "activation_function": "torch.nn.modules.linear.Identity",
        },
    )
    weight = torch.randn((n_out, n_in), generator=g) / n_in**0.5
    save_file({"linear.weight": weight.contiguous()}, os.path.join(out, path, "model.safetensors"))


def main() -> None:
    out = os.path.join(sys.argv[1], NAME)
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(14)
    g = torch.Generator().manual_seed(14)

    tok = tokenizer()
    tok.save(os.path.join(out, "tokenizer.json"))
    write_json(
        os.path.join(out, "tokenizer_config.json"),
        {
            "tokenizer_class": "PreTrainedTokenizerFast",
            "padding_side": "right",
            "pad_token": "<pad>",
            "eos_token": "<eos>",
            "bos_token": "<bos>",
            "unk_token": "<unk>",
            "model_max_length": 2048,
            "clean_up_tokenization_spaces": False,
        },
    )

    config = Gemma3TextConfig(
        vocab_size=tok.get_vocab_size(),
        hidden_size=HIDDEN,
        intermediate_size=96,
        num_hidden_layers=4,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=32,
        query_pre_attn_scalar=24,  # not head_dim, so that the scaling is tested
        sliding_window=WINDOW,
        layer_types=["sliding_attention", "full_attention", "sliding_attention", "sliding_attention"],
        rope_theta=1_000_000.0,
        rope_local_base_freq=10_000.0,
        max_position_embeddings=2048,
        use_bidirectional_attention=True,
        hidden_activation="gelu_pytorch_tanh",
        rms_norm_eps=1e-6,
        pad_token_id=0,
        eos_token_id=1,
        bos_token_id=2,
    )
    model = Gemma3TextModel(config)
    randomise(model, g)
    model.save_pretrained(out)

    write_json(os.path.join(out, "sentence_bert_config.json"), {"max_seq_length": 512, "do_lower_case": False})
    write_json(
        os.path.join(out, "modules.json"),
        [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Dense", "type": "sentence_transformers.models.Dense"},
            {"idx": 3, "name": "3", "path": "3_Dense", "type": "sentence_transformers.models.Dense"},
            {"idx": 4, "name": "4", "path": "4_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
    )
    os.makedirs(os.path.join(out, "1_Pooling"), exist_ok=True)
    write_json(
        os.path.join(out, "1_Pooling", "config.json"),
        {
            "word_embedding_dimension": HIDDEN,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "pooling_mode_weightedmean_tokens": False,
            "pooling_mode_lasttoken": False,
            "include_prompt": True,
        },
    )
    dense(out, "2_Dense", HIDDEN, DENSE, g)
    dense(out, "3_Dense", DENSE, HIDDEN, g)
    os.makedirs(os.path.join(out, "4_Normalize"), exist_ok=True)
    write_json(
        os.path.join(out, "config_sentence_transformers.json"),
        {"prompts": PROMPTS, "default_prompt_name": None, "similarity_fn_name": "cosine"},
    )

    st = SentenceTransformer(out, device="cpu")
    st_tok = st.tokenizer
    assert st_tok.padding_side == "right", st_tok.padding_side
    for text in TEXTS:  # the folder's tokenizer is the one lexsearch will read
        assert st_tok(text)["input_ids"] == tok.encode(text).ids, text
    long_tokens = len(tok.encode(LONG).ids)
    assert long_tokens > WINDOW, long_tokens

    # Documents as lexsearch indexes them: with the document prompt (encode_document).
    hf = AutoModel.from_pretrained(out).eval()
    assert hf.config.use_bidirectional_attention and hf.config.sliding_window == WINDOW // 2 + 1
    extra = {"family": "gemma3", "pooling": "mean", "dense": 2, "dim": HIDDEN, "max_seq_length": 512}
    write_json(
        os.path.join(out, "references.json"),
        references(st, hf, tok, extra, DOCUMENT_PROMPT, PROMPTS["query"]),
    )
    print(f"wrote {out} ({long_tokens} tokens in the longest text, window {WINDOW})")


if __name__ == "__main__":
    main()
