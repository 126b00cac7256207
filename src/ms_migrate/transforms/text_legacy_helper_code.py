"""torchtext's legacy data API (torchtext.data before 0.9, torchtext.legacy.data until
0.12: Field, Example, Dataset, TranslationDataset, Iterator, BucketIterator), written into
a converted file as plain Python with MindSpore tensors for the batches: the same
tokenizing, vocabulary (specials first, then by falling count, then alphabetically),
padding (init and eos tokens, pad to the longest), numericalising and batch order (the
same bucketing, shuffled by Python's random from the same state)."""
from __future__ import annotations

HELPERS = {
    "FieldVocab": '''\
class FieldVocab:
    """The vocabulary Field.build_vocab makes (torchtext's legacy Vocab): the specials
    first, then the tokens counted min_freq times by falling count, then alphabetically;
    stoi gives an unknown token the index of "<unk>"."""

    def __init__(self, counter, max_size=None, min_freq=1, specials=("<unk>", "<pad>"),
                 specials_first=True):
        self.freqs = counter
        counter = collections.Counter(counter)
        self.itos = list(specials) if specials_first else []
        if max_size is not None and specials_first:
            max_size += len(specials)
        for token in specials:
            del counter[token]
        by_count = sorted(counter.items(), key=lambda item: item[0])
        by_count.sort(key=lambda item: item[1], reverse=True)
        for word, freq in by_count:
            if freq < max(min_freq, 1) or len(self.itos) == max_size:
                break
            self.itos.append(word)
        self.unk_index = None
        if "<unk>" in specials:
            self.unk_index = specials.index("<unk>") + (0 if specials_first else len(self.itos))
            self.stoi = collections.defaultdict(self._default_unk_index)
        else:
            self.stoi = collections.defaultdict()
        if not specials_first:
            self.itos.extend(specials)
        self.stoi.update({token: index for index, token in enumerate(self.itos)})

    def _default_unk_index(self):
        return self.unk_index

    def __getitem__(self, token):
        return self.stoi.get(token, self.stoi.get("<unk>"))

    def __len__(self):
        return len(self.itos)
''',
    "Field": '''\
class Field:
    """torchtext's legacy Field: how one column is tokenized (preprocess), given a
    vocabulary (build_vocab), padded and numericalised into a batch (process): a
    MindSpore int64 tensor, (length, batch) unless batch_first."""

    def __init__(self, sequential=True, use_vocab=True, init_token=None, eos_token=None,
                 fix_length=None, dtype=mindspore.int64, preprocessing=None,
                 postprocessing=None, lower=False, tokenize=None, tokenizer_language="en",
                 include_lengths=False, batch_first=False, pad_token="<pad>",
                 unk_token="<unk>", pad_first=False, truncate_first=False, stop_words=None,
                 is_target=False):
        self.sequential, self.use_vocab, self.dtype = sequential, use_vocab, dtype
        self.init_token, self.eos_token, self.fix_length = init_token, eos_token, fix_length
        self.preprocessing, self.postprocessing, self.lower = preprocessing, postprocessing, lower
        self.tokenize = get_tokenizer(tokenize, tokenizer_language)
        self.include_lengths, self.batch_first = include_lengths, batch_first
        self.pad_token = pad_token if sequential else None
        self.unk_token, self.pad_first, self.truncate_first = unk_token, pad_first, truncate_first
        self.stop_words = None if stop_words is None else set(stop_words)
        self.is_target = is_target
        self.tokenizer_args = (tokenize, tokenizer_language)

    def __getstate__(self):  # a tokenizer by name is made again where the field is loaded
        named = self.tokenizer_args[0] is None or isinstance(self.tokenizer_args[0], str)
        return dict(self.__dict__, tokenize=None if named else self.tokenize)

    def __setstate__(self, state):
        self.__dict__.update(state)
        if self.tokenize is None:
            self.tokenize = get_tokenizer(*self.tokenizer_args)

    def preprocess(self, x):
        if self.sequential and isinstance(x, str):
            x = self.tokenize(x.rstrip("\\n"))
        if self.lower:
            x = [token.lower() for token in x] if isinstance(x, list) else x.lower()
        if self.sequential and self.use_vocab and self.stop_words is not None:
            x = [token for token in x if token not in self.stop_words]
        return x if self.preprocessing is None else self.preprocessing(x)

    def process(self, batch, device=None):
        return self.numericalize(self.pad(batch))

    def pad(self, minibatch):
        minibatch = list(minibatch)
        if not self.sequential:
            return minibatch
        if self.fix_length is None:
            max_len = max(len(x) for x in minibatch)
        else:
            max_len = self.fix_length + (self.init_token, self.eos_token).count(None) - 2
        init = [] if self.init_token is None else [self.init_token]
        eos = [] if self.eos_token is None else [self.eos_token]
        padded, lengths = [], []
        for x in minibatch:
            kept = list(x[-max_len:] if self.truncate_first else x[:max_len])
            padding = [self.pad_token] * max(0, max_len - len(x))
            padded.append(padding + init + kept + eos if self.pad_first
                          else init + kept + eos + padding)
            lengths.append(len(padded[-1]) - max(0, max_len - len(x)))
        return (padded, lengths) if self.include_lengths else padded

    def build_vocab(self, *args, **kwargs):
        counter = collections.Counter()
        sources = []
        for arg in args:
            if isinstance(arg, Dataset):
                sources += [getattr(arg, name) for name, field in arg.fields.items()
                            if field is self]
            else:
                sources.append(arg)
        for data in sources:
            for x in data:
                counter.update(x if self.sequential else [x])
        specials = list(collections.OrderedDict.fromkeys(
            token for token in [self.unk_token, self.pad_token, self.init_token,
                                self.eos_token] + kwargs.pop("specials", [])
            if token is not None))
        self.vocab = FieldVocab(counter, specials=specials, **kwargs)

    def numericalize(self, arr, device=None):
        lengths = None
        if isinstance(arr, tuple):
            arr, lengths = arr
            lengths = mindspore.tensor(lengths, dtype=self.dtype)
        if self.use_vocab:
            arr = ([[self.vocab.stoi[x] for x in ex] for ex in arr] if self.sequential
                   else [self.vocab.stoi[x] for x in arr])
            if self.postprocessing is not None:
                arr = self.postprocessing(arr, self.vocab)
        elif self.postprocessing is not None:
            arr = self.postprocessing(arr, None)
        var = mindspore.tensor(arr, dtype=self.dtype)
        if self.sequential and not self.batch_first:
            var = var.t()
        return var if lengths is None else (var, lengths)
''',
    "Example": '''\
class Example:
    """torchtext's legacy Example: one item, each column an attribute, preprocessed by
    its field."""

    @classmethod
    def fromlist(cls, data, fields):
        ex = cls()
        for (name, field), value in zip(fields, data):
            if field is None:
                continue
            if isinstance(value, str):
                value = value.rstrip("\\n")
            if isinstance(name, tuple):
                for n, f in zip(name, field):
                    setattr(ex, n, f.preprocess(value))
            else:
                setattr(ex, name, field.preprocess(value))
        return ex
''',
    "Dataset": '''\
class Dataset:
    """torchtext's legacy Dataset: examples and their fields (name -> Field); a field's
    name read as an attribute gives that column of every example."""

    sort_key = None

    def __init__(self, examples, fields, filter_pred=None):
        if filter_pred is not None:
            examples = [ex for ex in examples if filter_pred(ex)]
        self.examples = examples
        self.fields = dict(fields)
        for names, field in list(self.fields.items()):
            if isinstance(names, tuple):
                self.fields.update(zip(names, field))
                del self.fields[names]

    def __getitem__(self, i):
        return self.examples[i]

    def __len__(self):
        return len(self.examples)

    def __iter__(self):
        yield from self.examples

    def __getattr__(self, attr):
        if attr in self.__dict__.get("fields", {}):
            return (getattr(x, attr) for x in self.examples)
        raise AttributeError(attr)
''',
    "TranslationDataset": '''\
class TranslationDataset(Dataset):
    """torchtext's legacy TranslationDataset: the lines of path + exts[0] and path + exts[1],
    stripped, paired where neither is empty; sorted by interleaved lengths."""

    @staticmethod
    def sort_key(ex):
        bits = zip(format(len(ex.src), "016b"), format(len(ex.trg), "016b"))
        return int("".join(a + b for a, b in bits), base=2)

    def __init__(self, path, exts, fields, **kwargs):
        if not isinstance(fields[0], (tuple, list)):
            fields = [("src", fields[0]), ("trg", fields[1])]
        src_path, trg_path = (os.path.expanduser(path + ext) for ext in exts)
        examples = []
        with open(src_path, encoding="utf-8") as src_file, \\
                open(trg_path, encoding="utf-8") as trg_file:
            for src_line, trg_line in zip(src_file, trg_file):
                src_line, trg_line = src_line.strip(), trg_line.strip()
                if src_line != "" and trg_line != "":
                    examples.append(Example.fromlist([src_line, trg_line], fields))
        super().__init__(examples, fields, **kwargs)
''',
    "Iterator": '''\
class Iterator:
    """torchtext's legacy Iterator: batches of a Dataset, each with one MindSpore tensor per
    field (padded and numericalised by the field); shuffled (train) or sorted (not train)
    from Python's random, drawn from the state it had when the iterator was made."""

    def __init__(self, dataset, batch_size, sort_key=None, device=None, batch_size_fn=None,
                 train=True, repeat=False, shuffle=None, sort=None, sort_within_batch=None):
        self.dataset, self.batch_size, self.batch_size_fn = dataset, batch_size, batch_size_fn
        self.train, self.repeat, self.iterations = train, repeat, 0
        self.shuffle = train if shuffle is None else shuffle
        self.sort = not train if sort is None else sort
        self.sort_within_batch = self.sort if sort_within_batch is None else sort_within_batch
        self.sort_key = dataset.sort_key if sort_key is None else sort_key
        self.random_state = random.getstate()

    @classmethod
    def splits(cls, datasets, batch_sizes=None, **kwargs):
        if batch_sizes is None:
            batch_sizes = [kwargs.pop("batch_size")] * len(datasets)
        return tuple(cls(datasets[i], batch_size=batch_sizes[i], train=i == 0, **kwargs)
                     for i in range(len(datasets)))

    def shuffled(self, items):
        state = random.getstate()
        random.setstate(self.random_state)
        items = random.sample(items, len(items))
        self.random_state = random.getstate()
        random.setstate(state)
        return items

    def data(self):
        if self.sort:
            return sorted(self.dataset, key=self.sort_key)
        if self.shuffle:
            return [self.dataset[i] for i in self.shuffled(range(len(self.dataset)))]
        return self.dataset

    def batches(self, data, batch_size):
        size_of = self.batch_size_fn or (lambda new, count, sofar: count)
        minibatch, size_so_far = [], 0
        for ex in data:
            minibatch.append(ex)
            size_so_far = size_of(ex, len(minibatch), size_so_far)
            if size_so_far == batch_size:
                yield minibatch
                minibatch, size_so_far = [], 0
            elif size_so_far > batch_size:
                yield minibatch[:-1]
                minibatch, size_so_far = minibatch[-1:], size_of(ex, 1, 0)
        if minibatch:
            yield minibatch

    def create_batches(self):
        return self.batches(self.data(), self.batch_size)

    def __len__(self):
        return math.ceil(len(self.dataset) / self.batch_size)

    def __iter__(self):
        while True:
            for minibatch in self.create_batches():
                self.iterations += 1
                if self.sort_within_batch:
                    if self.sort:
                        minibatch.reverse()
                    else:
                        minibatch.sort(key=self.sort_key, reverse=True)
                batch = types.SimpleNamespace(batch_size=len(minibatch), dataset=self.dataset,
                                              fields=self.dataset.fields.keys())
                for name, field in self.dataset.fields.items():
                    if field is not None:
                        setattr(batch, name, field.process([getattr(x, name) for x in minibatch]))
                yield batch
            if not self.repeat:
                return
''',
    "BucketIterator": '''\
class BucketIterator(Iterator):
    """torchtext's legacy BucketIterator: examples of similar sort_key batched together:
    chunks of 100 batches, sorted within a chunk (sort_within_batch), cut into batches,
    the batches of each chunk shuffled."""

    def create_batches(self):
        if self.sort:
            yield from self.batches(self.data(), self.batch_size)
            return
        for chunk in self.batches(self.data(), self.batch_size * 100):
            if self.sort_within_batch:
                chunk = sorted(chunk, key=self.sort_key)
            chunk_batches = list(self.batches(chunk, self.batch_size))
            yield from self.shuffled(chunk_batches) if self.shuffle else chunk_batches
''',
    "multi30k_splits": '''\
def multi30k_splits(exts, fields, root=".data", train="train", validation="val",
                    test="test2016", path=None, **kwargs):
    """torchtext's legacy Multi30k.splits: a TranslationDataset of each split named (None:
    left out) in <root>/multi30k, where the archives of multi30k.URL are fetched and
    extracted when that folder is missing."""
    if path is None:
        path = os.path.join(root, "multi30k")
        if not os.path.isdir(path):
            os.makedirs(path)
            for url in multi30k.URL.values():
                archive = os.path.join(path, os.path.basename(url))
                urllib.request.urlretrieve(url, archive)
                with tarfile.open(archive, "r:gz") as tar:
                    tar.extractall(path)
    return tuple(TranslationDataset(os.path.join(path, name), exts, fields, **kwargs)
                 for name in (train, validation, test) if name is not None)
''',
}
NEEDS = {"multi30k_splits": ("multi30k", "TranslationDataset"),
         "Field": ("get_tokenizer", "FieldVocab", "Dataset"),
         "TranslationDataset": ("Dataset", "Example"),
         "BucketIterator": ("Iterator",)}
IMPORTS = {"FieldVocab": ("import collections",), "Field": ("import collections",),
           "TranslationDataset": ("import os",),
           "multi30k_splits": ("import os", "import tarfile", "import urllib.request"),
           "Iterator": ("import math", "import random", "import types")}
