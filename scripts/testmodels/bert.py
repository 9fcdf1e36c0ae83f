"""Random-weight BERT test models: CLS pooling with a Dense module; mean pooling with prompts;
last-token pooling with two Dense modules (as embeddinggemma has) and a default prompt."""

import torch
from _common import outdir, save_hf, save_st, wordpiece_tokenizer
from transformers import BertConfig

out = outdir()
tok, special = wordpiece_tokenizer()


def bert(seed):
    config = BertConfig(
        vocab_size=tok.get_vocab_size(),
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=128,
        max_position_embeddings=256,
        pad_token_id=0,
    )
    return save_hf(config, tok, special, seed)


save_st(out, "bert-cls-dense", "bert", bert(1), "cls", 128, dense=[(32, True, torch.nn.Tanh)])
save_st(
    out,
    "bert-mean-prompts",
    "bert",
    bert(2),
    "mean",
    128,
    prompts={"query": "query: ", "document": "passage: "},
)
save_st(
    out,
    "bert-lasttoken-2dense",
    "bert",
    bert(3),
    "lasttoken",
    96,
    dense=[(48, False, torch.nn.Identity), (40, True, torch.nn.Identity)],
    prompts={"query": "task: search result | query: ", "retrieval": "title: none | text: "},
    default_prompt_name="retrieval",
)
