"""Character-level BERT / T5 / CLIP tokenizers built in code, so random-weight encoders work offline.

Every text tokenizes (letters, digits, punctuation; anything else becomes the unknown
token), and the tokenizers save and load with save_pretrained / AutoTokenizer like real ones.
"""

from __future__ import annotations

import string

_CHARS = list(string.ascii_letters + string.digits + string.punctuation)


def byte_level_vocab() -> tuple[dict[str, int], list[str]]:
    """A CLIP BPE vocabulary of single bytes (no merges): every text tokenizes, offline."""
    from open_clip.tokenizer import bytes_to_unicode  # the GPT-2/CLIP byte alphabet

    chars = list(bytes_to_unicode().values())
    tokens = chars + [c + "</w>" for c in chars] + ["<|startoftext|>", "<|endoftext|>"]
    return {t: i for i, t in enumerate(tokens)}, []


def bert_tokenizer():
    """WordPiece over single characters: 'cat' -> c ##a ##t."""
    from transformers import BertTokenizer

    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + _CHARS + ["##" + c for c in _CHARS]
    return BertTokenizer(vocab={w: i for i, w in enumerate(words)}, do_lower_case=False, model_max_length=512)


def t5_tokenizer():
    """Unigram over single characters with T5's special tokens (<pad>=0, </s>=1, <unk>=2)."""
    from transformers import T5Tokenizer

    pieces = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("\u2581", -2.0)]
    pieces += [("\u2581" + c, -3.0) for c in _CHARS] + [(c, -4.0) for c in _CHARS]
    return T5Tokenizer(vocab=pieces, extra_ids=0, model_max_length=512)


def clip_tokenizer():
    """CLIP's byte-level BPE with single-byte tokens and no merges (as tiny-sd uses)."""
    from transformers import CLIPTokenizer

    vocab, merges = byte_level_vocab()
    return CLIPTokenizer(vocab=vocab, merges=merges, model_max_length=77)


def llama_tokenizer(special: tuple[str, ...] = ()):
    """Llama's SentencePiece-style BPE ("\u2581" marks a word start) over single characters and
    newlines, no merges; `special` tokens (e.g. an image placeholder) are never split."""
    from transformers import LlamaTokenizer

    chars = _CHARS + ["\n"]
    tokens = ["<unk>", "<s>", "</s>", "<pad>", *special, "\u2581"] + ["\u2581" + c for c in chars] + chars
    tokenizer = LlamaTokenizer(vocab={t: i for i, t in enumerate(tokens)}, merges=[], unk_token="<unk>",
                               bos_token="<s>", eos_token="</s>", pad_token="<pad>")
    tokenizer.add_tokens(list(special), special_tokens=True)
    return tokenizer


TOKENIZERS = {"bert": bert_tokenizer, "t5": t5_tokenizer, "clip": clip_tokenizer}
