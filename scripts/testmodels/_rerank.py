"""Shared by the rerank_*.py generators (not run by scripts/make-test-models: its name starts
with `_`). Each generator builds a small random-weight `*ForSequenceClassification` model with
one output (num_labels 1), saves it as a sentence-transformers CrossEncoder folder, and writes
`references.json`: the scores `CrossEncoder(dir).predict` gives for one query and passages of
several lengths (one longer than the model's maximum length, so truncation is exercised), all
in one batch and each alone. lexsearch's reranker must reproduce them within 1e-4
(tests/rerank.rs).

The tokenizer is the default model's WordPiece tokenizer.json (all-MiniLM-L6-v2, in the model
cache or LEXSEARCH_MODEL_DIR), with a post-processor of the family's pair template: the
family of the tokenizer does not matter for the test as long as Python and Rust read the same
tokenizer.json, which `check_tokenizer` asserts.
"""
import json
import os
import shutil
import sys
import tempfile

import torch
from tokenizers import Tokenizer
from transformers import PreTrainedTokenizerFast

QUERY = "When may a landlord keep a tenant's security deposit?"

PASSAGES = [
    "Deposits.",
    "A landlord shall return the security deposit within 45 days after the tenancy ends.",
    "The landlord may withhold from the security deposit only the amounts reasonably necessary "
    "to remedy the tenant's defaults in the payment of rent or to repair damage to the premises "
    "beyond ordinary wear and tear, and shall give the tenant an itemized list of them.",
    # Longer than every generated model's maximum length: truncated (longest_first).
    " ".join(
        [
            "(a) Within 45 days after the termination of the tenancy, the owner shall either "
            "tender payment to the tenant, without demand, of any deposit and interest, or "
            "provide the tenant with written notice of intention to withhold the deposit, and "
            "the reasons for withholding it, by first-class mail to the last known address."
        ]
        * 6
    ),
    "",
    "Rent is due on the first day of each month; a late fee may not exceed five percent.",
]


def minilm_tokenizer():
    """The default model's tokenizer.json, without its own padding and truncation."""
    src = os.environ.get("LEXSEARCH_MODEL_DIR") or os.path.expanduser(
        "~/.cache/lexsearch/models/all-MiniLM-L6-v2"
    )
    path = os.path.join(src, "tokenizer.json")
    if not os.path.isfile(path):
        sys.exit(f"{path} not found: fetch the default model with scripts/fetch-model first")
    tok = Tokenizer.from_file(path)
    tok.no_padding()
    tok.no_truncation()
    return tok


def fast_tokenizer(tok, token_types, **special):
    """A transformers tokenizer that is exactly `tok` (saved as tokenizer.json). With
    `token_types`, it hands the model the template's token type ids, as BERT's tokenizer does
    (transformers' generic tokenizer leaves them out, and the model then reads type 0)."""
    names = ["input_ids", "token_type_ids", "attention_mask"] if token_types else None
    extra = {"model_input_names": names} if names else {}
    return PreTrainedTokenizerFast(tokenizer_object=tok, **extra, **special)


def check_tokenizer(ce, folder):
    """The CrossEncoder tokenizes pairs exactly as tokenizer.json does in Rust."""
    raw = Tokenizer.from_file(os.path.join(folder, "tokenizer.json"))
    raw.no_padding()
    n = ce.max_length
    raw.enable_truncation(max_length=n, strategy="longest_first")
    for p in PASSAGES:
        features = ce.tokenizer([QUERY], [p], truncation="longest_first", max_length=n)
        want = raw.encode(QUERY, p).ids
        got = features["input_ids"][0]
        assert got == want, f"transformers and tokenizers disagree on {p[:30]!r}: {got} vs {want}"
        types = features.get("token_type_ids")
        if types is not None:
            assert types[0] == raw.encode(QUERY, p).type_ids, f"token types differ on {p[:30]!r}"


def random_init(model, std, seed):
    """Random weights of a larger spread than transformers' default, so that scores differ
    clearly between passages; LayerNorm weights near 1 and biases near 0."""
    torch.manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name.lower() and name.endswith("weight"):
                p.copy_(1.0 + 0.1 * torch.randn_like(p))
            elif name.endswith("bias"):
                p.copy_(0.1 * torch.randn_like(p))
            else:
                p.copy_(std * torch.randn_like(p))
    model.eval()


def save(model, tokenizer, outdir, name, family, max_length):
    """Saves `model` as a CrossEncoder folder OUTDIR/NAME and writes its references.json."""
    from sentence_transformers import CrossEncoder

    folder = os.path.join(outdir, name)
    shutil.rmtree(folder, ignore_errors=True)
    with tempfile.TemporaryDirectory() as tmp:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        CrossEncoder(tmp, max_length=max_length, device="cpu").save_pretrained(folder)
    ce = CrossEncoder(folder, device="cpu")
    assert ce.max_length == max_length, (ce.max_length, max_length)
    check_tokenizer(ce, folder)
    pairs = [(QUERY, p) for p in PASSAGES]
    batched = ce.predict(pairs, batch_size=len(pairs)).tolist()
    alone = [float(ce.predict([pair])[0]) for pair in pairs]
    refs = {
        "kind": "reranker",
        "family": family,
        "max_length": max_length,
        "activation": type(ce.activation_fn).__name__,
        "query": QUERY,
        "passages": PASSAGES,
        "batched": batched,
        "alone": alone,
    }
    with open(os.path.join(folder, "references.json"), "w") as f:
        json.dump(refs, f, indent=1)
    spread = max(batched) - min(batched)
    print(f"{folder}: {len(pairs)} scores, spread {spread:.3f}")


def outdir():
    if len(sys.argv) < 2:
        sys.exit(f"usage: {sys.argv[0]} OUTDIR")
    os.makedirs(sys.argv[1], exist_ok=True)
    return sys.argv[1]
