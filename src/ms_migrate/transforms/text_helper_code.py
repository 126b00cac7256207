"""torchtext's vocabulary and tokenizer functions, written into a converted file as plain
Python (MindSpore's text.Vocab has no default index and its lookups run inside dataset
pipelines): the same tokens, in the same order, with the same indices and lookups."""
from __future__ import annotations

HELPERS = {
    "Vocab": '''\
class Vocab:
    """torchtext.vocab.Vocab: tokens and their indices; a token it does not hold gets the
    default index, or raises while none is set."""

    def __init__(self, tokens):
        self.itos = list(tokens)
        self.stoi = {token: index for index, token in enumerate(self.itos)}
        self.default_index = None

    def __len__(self):
        return len(self.itos)

    def __contains__(self, token):
        return token in self.stoi

    def __getitem__(self, token):
        index = self.stoi.get(token, self.default_index)
        if index is None:
            raise RuntimeError(f"Token {token} not found and default index is not set")
        return index

    def __call__(self, tokens):
        return self.lookup_indices(tokens)

    def set_default_index(self, index):
        self.default_index = index

    def get_default_index(self):
        return self.default_index

    def insert_token(self, token, index):
        if token in self.stoi or not 0 <= index <= len(self.itos):
            raise RuntimeError(f"cannot insert {token!r} at {index}")
        self.itos.insert(index, token)
        self.stoi = {token: index for index, token in enumerate(self.itos)}

    def append_token(self, token):
        self.insert_token(token, len(self.itos))

    def lookup_token(self, index):
        return self.itos[index]

    def lookup_tokens(self, indices):
        return [self.itos[index] for index in indices]

    def lookup_indices(self, tokens):
        return [self[token] for token in tokens]

    def get_stoi(self):
        return dict(self.stoi)

    def get_itos(self):
        return list(self.itos)
''',
    "vocab": '''\
def vocab(ordered_dict, min_freq=1, specials=None, special_first=True):
    """torchtext.vocab.vocab: the tokens of ordered_dict (token -> count) in its order,
    those counted min_freq times, with the specials first or last."""
    specials = specials or []
    tokens = [token for token, freq in ordered_dict.items()
              if freq >= min_freq and token not in specials]
    return Vocab(specials + tokens if special_first else tokens + specials)
''',
    "build_vocab_from_iterator": '''\
def build_vocab_from_iterator(iterator, min_freq=1, specials=None, special_first=True,
                              max_tokens=None):
    """torchtext.vocab.build_vocab_from_iterator: the tokens of the iterator's lists by
    falling count, then alphabetically (the max_tokens - len(specials) most frequent),
    those counted min_freq times, with the specials first or last."""
    counter = collections.Counter()
    for tokens in iterator:
        counter.update(tokens)
    specials = specials or []
    by_count = sorted(counter.items(), key=lambda item: (-item[1], item[0]))
    if max_tokens is not None:
        by_count = by_count[:max_tokens - len(specials)]
    tokens = [token for token, freq in by_count if freq >= min_freq and token not in specials]
    return Vocab(specials + tokens if special_first else tokens + specials)
''',
    "get_tokenizer": '''\
def get_tokenizer(tokenizer, language="en"):
    """torchtext.data.utils.get_tokenizer: None splits on whitespace; "basic_english"
    lowercases, sets punctuation apart and splits; "spacy" uses the spaCy model of
    `language`; a callable is returned as it is."""
    if tokenizer is None:
        return str.split
    if callable(tokenizer):
        return tokenizer
    if tokenizer == "basic_english":
        if language != "en":
            raise ValueError("Basic normalization is only available for English(en)")
        rules = [(r"\\'", " '  "), (r'\\"', ""), (r"\\.", " . "), (r"<br \\/>", " "),
                 (r",", " , "), (r"\\(", " ( "), (r"\\)", " ) "), (r"\\!", " ! "),
                 (r"\\?", " ? "), (r"\\;", " "), (r"\\:", " "), (r"\\s+", " ")]

        def basic_english(line):
            line = line.lower()
            for pattern, replacement in rules:
                line = re.sub(pattern, replacement, line)
            return line.split()
        return basic_english
    if tokenizer == "spacy":
        import spacy
        try:
            nlp = spacy.load(language)
        except IOError:  # spaCy 3 knows its models by their full names only
            nlp = spacy.load(spacy.errors.OLD_MODEL_SHORTCUTS[language])
        return lambda text: [token.text for token in nlp.tokenizer(text)]
    raise ValueError(f"tokenizer {tokenizer!r}: None, 'basic_english', 'spacy' or a callable")
''',
}
NEEDS = {"vocab": ("Vocab",), "build_vocab_from_iterator": ("Vocab",)}
IMPORTS = {"build_vocab_from_iterator": ("import collections",),
                "get_tokenizer": ("import re",)}
