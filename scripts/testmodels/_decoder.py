"""Shared code of the decoder test-model generators (qwen3.py, gemma3.py): their texts, a
byte-level BPE trained on them, and the references both write.

Kept apart from _common.py (the encoder generators' corpus and tokenizers) so that each set of
generated models, and its references, stays as it is.
"""

import json

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

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


def byte_level_bpe(special_tokens, unk_token=None) -> Tokenizer:
    """A byte-level BPE of 400 tokens trained on CORPUS and LONG, with `special_tokens` first
    (at ids 0, 1, ...); the caller adds its model's post-processor."""
    tok = Tokenizer(models.BPE(unk_token=unk_token) if unk_token else models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=special_tokens,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator([CORPUS, LONG], trainer=trainer)
    return tok


def write_json(path: str, value) -> None:
    with open(path, "w") as f:
        json.dump(value, f, indent=2)
        f.write("\n")


def references(st, hf, tok, extra: dict, document_prompt: str, query_prompt: str) -> dict:
    """references.json of a decoder embedder: sentence-transformers' vectors for TEXTS (with the
    document prompt, batched and alone) and QUERIES, and transformers' hidden states of each raw
    text alone. `extra` holds the family, pooling, Dense count, width and max_seq_length."""
    batched = st.encode_document(TEXTS, batch_size=len(TEXTS), convert_to_numpy=True)
    alone = [st.encode_document([t], batch_size=1, convert_to_numpy=True)[0] for t in TEXTS]
    query_vectors = st.encode_query(QUERIES, batch_size=len(QUERIES), convert_to_numpy=True)
    hidden_alone = []
    with torch.no_grad():
        for text in TEXTS:
            ids = torch.tensor([tok.encode(text).ids])
            hidden_alone.append(hf(input_ids=ids, attention_mask=torch.ones_like(ids)).last_hidden_state[0].tolist())
    return {
        "kind": "embedder",
        **extra,
        "texts": TEXTS,
        "document_prompt": document_prompt,
        # Token counts of the texts without prompts, truncated at max_seq_length.
        "tokens": [len(st.tokenize([t])["input_ids"][0]) for t in TEXTS],
        "batched": batched.tolist(),
        "alone": [v.tolist() for v in alone],
        "queries": QUERIES,
        "query_prompt": query_prompt,
        "query_vectors": query_vectors.tolist(),
        # The raw texts (no prompt): their ids, and transformers' hidden states for each alone.
        "token_ids": [tok.encode(t).ids for t in TEXTS],
        "hidden_alone": hidden_alone,
    }
