"""Generates OUTDIR/qwen3-tiny: a random-weight Qwen3 embedding model in the sentence-transformers
layout of Qwen/Qwen3-Embedding-0.6B (last-token pooling, Normalize, instruction prompt for
queries, left padding, <|endoftext|> appended by the tokenizer), plus references.json with the
vectors sentence-transformers and transformers compute for it.

    PY=$(scripts/python-env); $PY scripts/testmodels/qwen3.py target/test-models

Deterministic (fixed seed); takes seconds.
"""

import os
import sys

import torch
from tokenizers import Tokenizer, processors
from transformers import AutoModel, Qwen3Config, Qwen3Model
from sentence_transformers import SentenceTransformer

from _decoder import LONG, TEXTS, byte_level_bpe, references, write_json

NAME = "qwen3-tiny"
PAD = "<|endoftext|>"
HIDDEN = 64
DOCUMENT_PROMPT = ""
QUERY_PROMPT = "Instruct: Given a web search query, retrieve relevant passages that answer the query\nQuery:"


def tokenizer() -> Tokenizer:
    """A byte-level BPE like Qwen's, trained on _decoder's texts, that appends <|endoftext|> to every text
    as Qwen3-Embedding's tokenizer.json does."""
    tok = byte_level_bpe([PAD, "<|im_start|>", "<|im_end|>"])
    eos = tok.token_to_id(PAD)
    tok.post_processor = processors.TemplateProcessing(
        single=f"$A:0 {PAD}:0",
        pair=f"$A:0 {PAD}:0 $B:1 {PAD}:1",
        special_tokens=[(PAD, eos)],
    )
    return tok


def randomise(model: torch.nn.Module) -> None:
    """Weights large enough that attention, RoPE and every norm change the output."""
    g = torch.Generator().manual_seed(14)
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = torch.randn(p.shape, generator=g)
            if name.endswith("norm.weight"):
                p.copy_(1.0 + 0.2 * noise)
            else:
                p.copy_(0.15 * noise)


def main() -> None:
    out = os.path.join(sys.argv[1], NAME)
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(14)

    tok = tokenizer()
    tok.save(os.path.join(out, "tokenizer.json"))
    pad_id = tok.token_to_id(PAD)
    write_json(
        os.path.join(out, "tokenizer_config.json"),
        {
            "tokenizer_class": "PreTrainedTokenizerFast",
            "padding_side": "left",
            "pad_token": PAD,
            "eos_token": PAD,
            "model_max_length": 131072,
            "clean_up_tokenization_spaces": False,
        },
    )

    config = Qwen3Config(
        vocab_size=tok.get_vocab_size(),
        hidden_size=HIDDEN,
        intermediate_size=96,
        num_hidden_layers=3,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=32,  # heads × head_dim ≠ hidden, as in the real 0.6B (16 × 128 vs 1024)
        max_position_embeddings=1024,
        rope_theta=1_000_000.0,
        rms_norm_eps=1e-6,
        tie_word_embeddings=True,
        pad_token_id=pad_id,
        eos_token_id=pad_id,
        bos_token_id=pad_id,
    )
    model = Qwen3Model(config)
    randomise(model)
    model.save_pretrained(out)

    write_json(os.path.join(out, "sentence_bert_config.json"), {"max_seq_length": 512, "do_lower_case": False})
    write_json(
        os.path.join(out, "modules.json"),
        [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
    )
    os.makedirs(os.path.join(out, "1_Pooling"), exist_ok=True)
    write_json(
        os.path.join(out, "1_Pooling", "config.json"),
        {
            "word_embedding_dimension": HIDDEN,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": False,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "pooling_mode_weightedmean_tokens": False,
            "pooling_mode_lasttoken": True,
            "include_prompt": True,
        },
    )
    os.makedirs(os.path.join(out, "2_Normalize"), exist_ok=True)
    write_json(
        os.path.join(out, "config_sentence_transformers.json"),
        {
            "prompts": {"query": QUERY_PROMPT, "document": DOCUMENT_PROMPT},
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    )

    st = SentenceTransformer(out, device="cpu")
    st_tok = st.tokenizer
    assert st_tok.padding_side == "left", st_tok.padding_side
    for text in TEXTS:  # the folder's tokenizer is the one lexsearch will read
        assert st_tok(text)["input_ids"] == tok.encode(text).ids, text
    long_tokens = len(tok.encode(LONG).ids)
    assert 250 <= long_tokens <= 400, long_tokens

    # Documents as lexsearch indexes them: with the document prompt (encode_document).
    hf = AutoModel.from_pretrained(out).eval()
    extra = {"family": "qwen3", "pooling": "lasttoken", "dense": 0, "dim": HIDDEN, "max_seq_length": 512}
    write_json(
        os.path.join(out, "references.json"),
        references(st, hf, tok, extra, DOCUMENT_PROMPT, QUERY_PROMPT),
    )
    print(f"wrote {out} ({long_tokens} tokens in the longest text)")


if __name__ == "__main__":
    main()
