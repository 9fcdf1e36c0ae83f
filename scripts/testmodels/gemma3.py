"""Generates OUTDIR/embeddinggemma-tiny: a random-weight Gemma 3 text model in the
sentence-transformers layout of google/embeddinggemma-300m (bidirectional attention with
sliding-window and global layers, mean pooling, two bias-free Dense projections, Normalize,
task prompts, <bos> prepended and <eos> appended by the tokenizer), plus references.json with
the vectors sentence-transformers and transformers compute for it.

    PY=$(scripts/python-env); $PY scripts/testmodels/gemma3.py target/test-models

Self-contained (imports only the libraries) and deterministic (fixed seed); takes seconds.
"""

import json
import os
import sys

import torch
from safetensors.torch import save_file
from tokenizers import Tokenizer, models, pre_tokenizers, decoders, processors, trainers
from transformers import AutoModel, Gemma3TextConfig, Gemma3TextModel
from sentence_transformers import SentenceTransformer

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
    """A byte-level BPE trained on CORPUS with Gemma's special tokens at Gemma's ids (<pad> 0,
    <eos> 1, <bos> 2, <unk> 3), wrapping every text in <bos> ... <eos> as embeddinggemma's does."""
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=["<pad>", "<eos>", "<bos>", "<unk>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator([CORPUS, LONG], trainer=trainer)
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


def write_json(path: str, value) -> None:
    with open(path, "w") as f:
        json.dump(value, f, indent=2)
        f.write("\n")


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
    batched = st.encode_document(TEXTS, batch_size=len(TEXTS), convert_to_numpy=True)
    alone = [st.encode_document([t], batch_size=1, convert_to_numpy=True)[0] for t in TEXTS]
    query_vectors = st.encode_query(QUERIES, batch_size=len(QUERIES), convert_to_numpy=True)

    hf = AutoModel.from_pretrained(out).eval()
    assert hf.config.use_bidirectional_attention and hf.config.sliding_window == WINDOW // 2 + 1
    hidden_alone = []
    with torch.no_grad():
        for text in TEXTS:
            ids = torch.tensor([tok.encode(text).ids])
            hidden_alone.append(hf(input_ids=ids, attention_mask=torch.ones_like(ids)).last_hidden_state[0].tolist())

    write_json(
        os.path.join(out, "references.json"),
        {
            "kind": "embedder",
            "family": "gemma3",
            "pooling": "mean",
            "dense": 2,
            "dim": HIDDEN,
            "max_seq_length": 512,
            "texts": TEXTS,
            "document_prompt": DOCUMENT_PROMPT,
            # Token counts of the texts without prompts, truncated at max_seq_length.
            "tokens": [len(st.tokenize([t])["input_ids"][0]) for t in TEXTS],
            "batched": batched.tolist(),
            "alone": [v.tolist() for v in alone],
            "queries": QUERIES,
            "query_prompt": PROMPTS["query"],
            "query_vectors": query_vectors.tolist(),
            # The raw texts (no prompt): their ids, and transformers' hidden states for each alone.
            "token_ids": [tok.encode(t).ids for t in TEXTS],
            "hidden_alone": hidden_alone,
        },
    )
    print(f"wrote {out} ({long_tokens} tokens in the longest text, window {WINDOW})")


if __name__ == "__main__":
    main()
