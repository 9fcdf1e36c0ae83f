"""Shared code of the random-weight test-model generators (scripts/testmodels/*.py).

Each generator builds small models of one family with fixed seeds, saves them in the
sentence-transformers layout with sentence-transformers itself, loads them back the way a user
would, and writes references.json: the vectors sentence-transformers computes for texts of
several lengths, batched and alone, and for queries. tests/model_families.rs compares lexsearch
with them. Run through scripts/make-test-models (the pinned Python of scripts/python-env).
"""

import json
import os
import shutil
import sys
import tempfile
import warnings

warnings.filterwarnings("ignore")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TQDM_DISABLE", "1")

import torch  # noqa: E402
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers  # noqa: E402

# A short legal text the tiny tokenizers are trained on.
CORPUS = """\
The Tenant shall pay the Security Deposit to the Landlord within ten (10) days of the Effective Date.
Section 42-3505.01. Evictions. No tenant shall be evicted from a rental unit, notwithstanding the
expiration of the tenant's lease or rental agreement, so long as the tenant continues to pay the rent.
The court may award reasonable attorney's fees to the prevailing party in any action under this chapter.
Notwithstanding any other provision of law, the Mayor shall issue rules to implement this subchapter.
Le locataire paie le dépôt de garantie au bailleur. Der Mieter zahlt die Kaution an den Vermieter.
Any person who violates this section shall be fined not more than $1,000 or imprisoned for 90 days.
(a) Definitions. For the purposes of this section, the term "housing accommodation" means any structure.
The agreement is governed by the laws of the District of Columbia; disputes go to its Superior Court.
""".strip()

TEXTS = [
    "Tenant",
    "The Tenant shall pay the Security Deposit to the Landlord within ten days.",
    "§ 42-3505.01 (a): no eviction while rent is paid; Le locataire paie le dépôt.",
    # Far longer than any test model's max_seq_length: truncation matters.
    " ".join([CORPUS.replace("\n", " ")] * 3),
]

QUERIES = ["security deposit", "When may a landlord evict a tenant who pays the rent?"]


def _word_counts(lower):
    """Words of the corpus by falling count, then alphabetically (deterministic)."""
    import collections
    import re

    text = CORPUS.lower() if lower else CORPUS
    counts = collections.Counter(re.findall(r"\w+", text))
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def _chars(lower):
    text = CORPUS.lower() if lower else CORPUS
    return sorted(set(text) - set(" \n"))


# The WordPiece and Unigram vocabularies are built from word counts rather than trained:
# the `tokenizers` trainers break ties differently from run to run, and the references must
# not change when nothing else did.


def wordpiece_tokenizer(vocab_size=400):
    """A BERT-style WordPiece tokenizer: [CLS] text [SEP], lower-cased."""
    special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    chars = _chars(lower=True)
    vocab = special + chars + ["##" + c for c in chars if c.isalnum()]
    for word, _ in _word_counts(lower=True):
        if len(vocab) >= vocab_size:
            break
        if word not in vocab:
            vocab.append(word)
    tok = Tokenizer(models.WordPiece({t: i for i, t in enumerate(vocab)}, unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls), ("[SEP]", sep)],
    )
    tok.decoder = decoders.WordPiece()
    return tok, dict(
        unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]"
    )


def unigram_tokenizer(vocab_size=300):
    """An XLM-RoBERTa-style SentencePiece Unigram tokenizer: <s> text </s>, <pad> = 1."""
    import math

    special = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    pieces = [(t, 0.0) for t in special] + [("\u2581", -3.0)]
    pieces += [(c, -8.0) for c in _chars(lower=False)]
    words = _word_counts(lower=False)
    total = sum(n for _, n in words)
    for word, n in words:
        if len(pieces) >= vocab_size:
            break
        pieces.append(("\u2581" + word, math.log(n / total)))
    tok = Tokenizer(models.Unigram(pieces, unk_id=3, byte_fallback=False))
    tok.normalizer = normalizers.NFKC()
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>",
        pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", 0), ("</s>", 2)],
    )
    tok.decoder = decoders.Metaspace()
    return tok, dict(
        bos_token="<s>", eos_token="</s>", unk_token="<unk>", pad_token="<pad>", cls_token="<s>",
        sep_token="</s>", mask_token="<mask>"
    )


def _train(tok, trainer):
    tok.train_from_iterator(CORPUS.splitlines() * 4, trainer=trainer)
    return tok


def bpe_tokenizer(vocab_size=400):
    """A ModernBERT-style byte-level BPE tokenizer: [CLS] text [SEP]."""
    special = ["[UNK]", "[CLS]", "[SEP]", "[PAD]", "[MASK]"]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    _train(
        tok,
        trainers.BpeTrainer(
            vocab_size=vocab_size, special_tokens=special, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
        ),
    )
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B [SEP]",
        special_tokens=[("[CLS]", 1), ("[SEP]", 2)],
    )
    tok.decoder = decoders.ByteLevel()
    return tok, dict(
        unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]"
    )


def randomize(model, seed, scale=0.05):
    """Perturbs every parameter (biases and norms included), so that a weight loaded wrongly
    shows in the output."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn(p.shape, generator=g) * scale)


def save_hf(config, tokenizer, special, seed, model_class=None, max_length=512, padding_side="right"):
    """Saves a random-weight AutoModel and its tokenizer to a temporary folder; returns its path."""
    from transformers import AutoModel, PreTrainedTokenizerFast

    torch.manual_seed(seed)
    model = (model_class or AutoModel).from_config(config)
    randomize(model, seed)
    model.eval()
    tmp = tempfile.mkdtemp(prefix="lexsearch-testmodel-")
    model.save_pretrained(tmp)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, model_max_length=max_length, padding_side=padding_side, **special
    )
    fast.save_pretrained(tmp)
    return tmp


def save_st(
    outdir,
    name,
    family,
    hf_dir,
    pooling,
    max_seq_length,
    dense=(),
    prompts=None,
    default_prompt_name=None,
    normalize=True,
    model_kwargs=None,
    seed=0,
):
    """Builds the sentence-transformers pipeline over `hf_dir`, saves it as OUTDIR/name,
    reloads it from there and writes references.json."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Pooling
    from sentence_transformers.base.modules import Dense, Normalize, Transformer

    target = os.path.join(outdir, name)
    shutil.rmtree(target, ignore_errors=True)
    transformer = Transformer(hf_dir, max_seq_length=max_seq_length, model_kwargs=model_kwargs or {})
    width = transformer.get_embedding_dimension()
    modules = [transformer, Pooling(width, pooling_mode=pooling)]
    g = torch.Generator().manual_seed(seed + 1)
    # dense: (out_features, bias, activation class), e.g. (32, True, torch.nn.Tanh).
    for out, bias, act in dense:
        d = Dense(width, out, bias=bias, activation_function=act())
        with torch.no_grad():
            d.linear.weight.copy_(torch.randn(d.linear.weight.shape, generator=g) / width**0.5)
            if bias:
                d.linear.bias.copy_(torch.randn(d.linear.bias.shape, generator=g) * 0.1)
        modules.append(d)
        width = out
    if normalize:
        modules.append(Normalize())
    st = SentenceTransformer(
        modules=modules, device="cpu", prompts=prompts or {}, default_prompt_name=default_prompt_name
    )
    st.save(target)
    shutil.rmtree(hf_dir, ignore_errors=True)

    st = SentenceTransformer(target, device="cpu", model_kwargs=model_kwargs or {})
    st.eval()
    with torch.no_grad():
        batched = st.encode_document(TEXTS, batch_size=len(TEXTS), convert_to_numpy=True)
        alone = [st.encode_document([t], batch_size=1, convert_to_numpy=True)[0] for t in TEXTS]
        queries = st.encode_query(QUERIES, batch_size=len(QUERIES), convert_to_numpy=True)
    refs = {
        "kind": "embedder",
        "family": family,
        "pooling": pooling,
        "dense": len(dense),
        "dim": int(width),
        "max_seq_length": max_seq_length,
        "texts": TEXTS,
        "batched": [v.tolist() for v in batched],
        "alone": [v.tolist() for v in alone],
        "queries": QUERIES,
        "query_vectors": [v.tolist() for v in queries],
        "tokens": [len(st.tokenize([t])["input_ids"][0]) for t in TEXTS],
    }
    with open(os.path.join(target, "references.json"), "w") as f:
        json.dump(refs, f)
    print(f"{target}: {family}, {pooling} pooling, {len(dense)} Dense, dim {width}", file=sys.stderr)


def outdir():
    """The output folder: the first argument (scripts/make-test-models passes it)."""
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} OUTDIR")
    os.makedirs(sys.argv[1], exist_ok=True)
    return sys.argv[1]
