"""Generates OUTDIR/qwen3-tiny: a random-weight Qwen3 embedding model in the sentence-transformers
layout of Qwen/Qwen3-Embedding-0.6B (last-token pooling, Normalize, instruction prompt for
queries, left padding, <|endoftext|> appended by the tokenizer), plus references.json with the
vectors sentence-transformers and transformers compute for it.

    PY=$(scripts/python-env); $PY scripts/testmodels/qwen3.py target/test-models

Self-contained (imports only the libraries) and deterministic (fixed seed); takes seconds.
"""

import json
import os
import sys

import torch
from tokenizers import Tokenizer, models, pre_tokenizers, decoders, processors, trainers
from transformers import AutoModel, Qwen3Config, Qwen3Model
from sentence_transformers import SentenceTransformer

NAME = "qwen3-tiny"
PAD = "<|endoftext|>"
HIDDEN = 64
DOCUMENT_PROMPT = ""
QUERY_PROMPT = "Instruct: Given a web search query, retrieve relevant passages that answer the query\nQuery:"

CORPUS = """\
The tenant shall pay rent on the first day of each month. A landlord may not retain a security
deposit for normal wear and tear. Any person who knowingly makes a false statement under oath
commits perjury. The court may award reasonable attorney's fees to the prevailing party. A
contract for the sale of land must be in writing and signed by the party to be charged. The
statute of limitations for an action on a written contract is three years from the breach.
Notice shall be given by certified mail, return receipt requested, to the address of record.
The Council finds that the public interest requires the regulation of residential evictions.
Section 42-3505.01 provides that no tenant shall be evicted except for the reasons listed.
An employer shall not discriminate against an employee on the basis of race, sex, or religion.
The Mayor may issue rules to implement this chapter, after notice and an opportunity to comment.
"""

LONG = (
    "Except as provided in subsection (b) of this section, no tenant shall be evicted from a "
    "rental unit, notwithstanding the expiration of the tenant's lease or rental agreement, so "
    "long as the tenant continues to pay the rent to which the housing provider is entitled for "
    "the rental unit. No tenant shall be evicted for any reason other than for nonpayment of "
    "rent unless the tenant has been served with a written notice to vacate which meets the "
    "requirements of this section. Notices to vacate for all reasons other than for "
    "nonpayment of rent shall be served upon both the tenant and the Rent Administrator, and "
    "shall contain a statement detailing the reasons for the eviction. A housing provider may "
    "recover possession of a rental unit where the tenant is violating an obligation of the "
    "tenancy and fails to correct the violation within thirty days after receiving notice. "
    "The court may award reasonable attorney's fees to the prevailing party, and any person "
    "who knowingly makes a false statement under oath in such proceedings commits perjury."
)

TEXTS = [
    "Tenant",
    "The landlord may not retain a security deposit for normal wear and tear.",
    "Notice shall be given by certified mail to the address of record.",
    LONG,
]
QUERIES = ["security deposit wear and tear", "When may a tenant be evicted?"]


def tokenizer() -> Tokenizer:
    """A byte-level BPE like Qwen's, trained on CORPUS, that appends <|endoftext|> to every text
    as Qwen3-Embedding's tokenizer.json does."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=[PAD, "<|im_start|>", "<|im_end|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator([CORPUS, LONG], trainer=trainer)
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


def write_json(path: str, value) -> None:
    with open(path, "w") as f:
        json.dump(value, f, indent=2)
        f.write("\n")


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
    batched = st.encode_document(TEXTS, batch_size=len(TEXTS), convert_to_numpy=True)
    alone = [st.encode_document([t], batch_size=1, convert_to_numpy=True)[0] for t in TEXTS]
    query_vectors = st.encode_query(QUERIES, batch_size=len(QUERIES), convert_to_numpy=True)

    hf = AutoModel.from_pretrained(out).eval()
    hidden_alone = []
    with torch.no_grad():
        for text in TEXTS:
            ids = torch.tensor([tok.encode(text).ids])
            hidden_alone.append(hf(input_ids=ids, attention_mask=torch.ones_like(ids)).last_hidden_state[0].tolist())

    write_json(
        os.path.join(out, "references.json"),
        {
            "kind": "embedder",
            "family": "qwen3",
            "pooling": "lasttoken",
            "dense": 0,
            "dim": HIDDEN,
            "max_seq_length": 512,
            "texts": TEXTS,
            "document_prompt": DOCUMENT_PROMPT,
            # Token counts of the texts without prompts, truncated at max_seq_length.
            "tokens": [len(st.tokenize([t])["input_ids"][0]) for t in TEXTS],
            "batched": batched.tolist(),
            "alone": [v.tolist() for v in alone],
            "queries": QUERIES,
            "query_prompt": QUERY_PROMPT,
            "query_vectors": query_vectors.tolist(),
            # The raw texts (no prompt): their ids, and transformers' hidden states for each alone.
            "token_ids": [tok.encode(t).ids for t in TEXTS],
            "hidden_alone": hidden_alone,
        },
    )
    print(f"wrote {out} ({long_tokens} tokens in the longest text)")


if __name__ == "__main__":
    main()
