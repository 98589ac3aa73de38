"""The checks of lessons 03 and 04 are fair (issue 13, sections 2 and 3): another correct
answer passes, a wrong one fails with a message that says why. Graded by the lessons'
real checks in the real sandbox.

One worker per lesson runs the lesson up to the last exercise tried here (once: the
slow part, with ``exercise_bench``); then every answer, to that exercise and to earlier
ones, costs only its own code and the check. Answers to a training exercise define the
recipe (the function) without calling it, as the check trains it anyway: one fit each.
"""

from __future__ import annotations

import pytest

from fairness import Answer, mismatches

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]


# --- lesson 03 ---------------------------------------------------------------------------

# The pair that the lesson's own confusion matrix confuses most, whatever the run gave.
WORST_PAIR = """
off = confmat.clone()
off.fill_diagonal_(0)
t, p = divmod(off.argmax().item(), len(class_names))
share = confmat.diag() / confmat.sum(dim=1)
hardest_class = class_names[share.argmin().item()]
"""

SPLIT_WITH_ITEM = """
def split_mistakes(probs, labels, confident=0.9):
    suspects, model_errors = [], []
    for i in range(len(labels)):
        p, guess = probs[i].max().item(), probs[i].argmax().item()
        if guess != labels[i].item():
            (suspects if p >= confident else model_errors).append(i)
    return torch.tensor(suspects, dtype=torch.long), torch.tensor(model_errors, dtype=torch.long)
"""

DIGITS_ADAMW = """
def train_digits(train_loader, test_loader):
    torch.manual_seed(1)
    images = train_loader.dataset.tensors[0]  # centred on the data it is given
    model = nn.Sequential(transforms.Normalize([images.mean().item()], [images.std().item()]),
                          TinyVGG(1, HIDDEN, 10)).to(device)
    fit(model, train_loader, test_loader, epochs=3, optimizer=torch.optim.AdamW(model.parameters(), lr=0.003))
    return model
"""

LESSON_03 = [
    # read-confusion: any pair of names (a list is fine), found however the learner likes.
    Answer("read-confusion", "a tuple of names", WORST_PAIR + "most_confused = (class_names[t], class_names[p])", True),
    Answer("read-confusion", "a list", WORST_PAIR + "most_confused = [class_names[t], class_names[p]]", True),
    Answer("read-confusion", "the wrong way round", WORST_PAIR + "most_confused = (class_names[p], class_names[t])",
           False, "wrong way round"),
    Answer("read-confusion", "numbers, not names", WORST_PAIR + "most_confused = (t, p)", False, "NAMES"),
    Answer("read-confusion", "one name", WORST_PAIR + "most_confused = class_names[t]", False, "pair of class names"),
    Answer("read-confusion", "the smallest mistake", WORST_PAIR + "off = off.float()\noff.fill_diagonal_(float('inf'))\n"
           "t, p = divmod(off.argmin().item(), len(class_names))\nmost_confused = (class_names[t], class_names[p])",
           False, "largest off-diagonal"),
    # split-mistakes: a loop over .item() meets "exactly 0.9" (float32 rounding once failed it).
    Answer("split-mistakes", "a loop over .item()", SPLIT_WITH_ITEM, True),
    Answer("split-mistakes", "> instead of >=", SPLIT_WITH_ITEM.replace("p >= confident", "p > confident"),
           False, "exactly 0.9 counts"),
    Answer("split-mistakes", "right ones counted", SPLIT_WITH_ITEM.replace("if guess != labels", "if guess == labels"),
           False, "predicted right"),
    # tinyvgg-digits: the recipe is trained by the check on digits it draws itself.
    Answer("tinyvgg-digits", "AdamW, another seed", DIGITS_ADAMW, True),
    Answer("tinyvgg-digits", "trains on the test digits",
           DIGITS_ADAMW.replace("fit(model, train_loader, test_loader", "fit(model, digit_test_loader, test_loader"),
           False, "reaches for `digit_test_loader`"),
    Answer("tinyvgg-digits", "untrained", "def train_digits(train_loader, test_loader):\n"
           "    return TinyVGG(1, HIDDEN, 10).to(device)", False, "the goal is at least 90%"),
    Answer("tinyvgg-digits", "three channels", "def train_digits(train_loader, test_loader):\n"
           "    return TinyVGG(3, HIDDEN, 10).to(device)", False, "1 channel"),
    Answer("tinyvgg-digits", "a model, not a function", "train_digits = TinyVGG(1, HIDDEN, 10)", False,
           "write a function that makes a model"),
]


async def test_lesson_03_checks_take_every_right_answer_and_only_those(exercise_bench):
    bench = await exercise_bench("03", "tinyvgg-digits", device="cpu")
    assert not await mismatches(bench, LESSON_03)


# --- lesson 04 ---------------------------------------------------------------------------

TRANSFORMS = """
train_transform = transforms.Compose([
    transforms.Resize((64, 64)),
    transforms.RandomHorizontalFlip(),
    transforms.TrivialAugmentWide(num_magnitude_bins=31),
    transforms.ToTensor(),
])
test_transform = transforms.Compose([
    transforms.Resize((64, 64)),
    transforms.ToTensor(),
])
"""

V2_TRANSFORMS = """
from torchvision.transforms import v2
train_transform = v2.Compose([
    v2.Resize((64, 64)), v2.RandomHorizontalFlip(), v2.TrivialAugmentWide(num_magnitude_bins=31),
    v2.ToImage(), v2.ToDtype(torch.float32, scale=True),
])
test_transform = v2.Compose([v2.ToImage(), v2.Resize((64, 64)), v2.ToDtype(torch.float32, scale=True)])
"""

V1_BYTES_THEN_FLOAT = """
train_transform = transforms.Compose([
    transforms.Resize((64, 64)), transforms.RandomHorizontalFlip(), transforms.TrivialAugmentWide(),
    transforms.PILToTensor(), transforms.ConvertImageDtype(torch.float32),
])
test_transform = transforms.Compose([
    transforms.Resize((64, 64)), transforms.PILToTensor(), transforms.ConvertImageDtype(torch.float32),
])
"""

RECIPE = """
augmented_loader = train_loader_augmented


def train_model_2(train_loader, test_loader):
    torch.manual_seed(42)
    model = nn.Sequential(normalise, TinyVGG(3, HIDDEN, len(class_names))).to(device)
    fit(model, train_loader, test_loader, epochs=EPOCHS, optimizer=torch.optim.Adam(model.parameters(), lr=0.001))
    return model
"""

NORMALISED_IN_THE_V2_TRANSFORM = """
from torchvision.transforms import v2
pipeline = v2.Compose([
    v2.ToImage(), v2.Resize((64, 64)), v2.TrivialAugmentWide(num_magnitude_bins=31),
    v2.ToDtype(torch.float32, scale=True), v2.Normalize(channel_mean.tolist(), channel_std.tolist()),
])
augmented_loader = DataLoader(datasets.ImageFolder(train_dir, transform=pipeline), batch_size=16, shuffle=True)


def train_model_2(train_loader, test_loader):
    torch.manual_seed(42)
    model = TinyVGG(3, HIDDEN, len(class_names)).to(device)
    fit(model, train_loader, test_loader, epochs=EPOCHS, optimizer=torch.optim.Adam(model.parameters(), lr=0.001))
    return model
"""

BATCH_NORM = """
augmented_loader = train_loader_augmented


def with_batchnorm(block):
    layers = []
    for layer in block:
        layers.append(layer)
        if isinstance(layer, nn.Conv2d):
            layers.append(nn.BatchNorm2d(layer.out_channels))
    return nn.Sequential(*layers)


def train_model_2(train_loader, test_loader):
    torch.manual_seed(42)
    model = TinyVGG(3, HIDDEN, len(class_names))
    model.block_1, model.block_2 = with_batchnorm(model.block_1), with_batchnorm(model.block_2)
    model = model.to(device)
    fit(model, train_loader, test_loader, epochs=EPOCHS, optimizer=torch.optim.Adam(model.parameters(), lr=0.001))
    return model
"""

TEST_FOLDER_TOO = RECIPE.replace("augmented_loader = train_loader_augmented", """both = torch.utils.data.ConcatDataset(
    [train_data_augmented, datasets.ImageFolder(test_dir, transform=augmented_transform)])
augmented_loader = DataLoader(both, batch_size=16, shuffle=True)""")

UNTRAINED = RECIPE.replace("    fit(model", "    # fit(model")

LESSON_04 = [
    # transforms: judged by what they produce (v2, bytes then float), not by their class.
    Answer("transforms", "v1, as in the lesson", TRANSFORMS, True),
    Answer("transforms", "v2 ToImage + ToDtype", V2_TRANSFORMS, True),
    Answer("transforms", "v1 PILToTensor + ConvertImageDtype", V1_BYTES_THEN_FLOAT, True),
    Answer("transforms", "v2 floats not scaled",
           V2_TRANSFORMS.replace("v2.ToDtype(torch.float32, scale=True)", "v2.ToDtype(torch.float32)"),
           False, "scale them to 0..1"),
    Answer("transforms", "random test transform",
           TRANSFORMS.replace("transforms.Resize((64, 64)),\n    transforms.ToTensor(),\n])",
                              "transforms.Resize((64, 64)),\n    transforms.RandomHorizontalFlip(),\n"
                              "    transforms.ToTensor(),\n])"), False, "must not change at random"),
    Answer("transforms", "no TrivialAugmentWide",
           TRANSFORMS.replace("    transforms.TrivialAugmentWide(num_magnitude_bins=31),\n", ""),
           False, "add transforms.TrivialAugmentWide()"),
    Answer("transforms", "cropped test pictures",
           TRANSFORMS.replace("transforms.Resize((64, 64)),\n    transforms.ToTensor(),\n])",
                              "transforms.CenterCrop(64),\n    transforms.ToTensor(),\n])"), False, "do not crop"),
    Answer("transforms", "32x32", TRANSFORMS.replace("transforms.Resize((64, 64)),\n    transforms.RandomHorizontalFlip()",
                                                     "transforms.Resize((32, 32)),\n    transforms.RandomHorizontalFlip()"),
           False, "shape (3, 64, 64)"),
    # train-augmented: the recipe is trained by the check with the test set out of reach.
    Answer("train-augmented", "normalise in front", RECIPE, True),
    Answer("train-augmented", "Normalize in a v2 loader", NORMALISED_IN_THE_V2_TRANSFORM, True),
    Answer("train-augmented", "BatchNorm", BATCH_NORM, True),
    Answer("train-augmented", "test folder in the loader", TEST_FOLDER_TOO, False, "from the test folder"),
    Answer("train-augmented", "trains on the test pictures",
           RECIPE.replace("fit(model, train_loader, test_loader",
                          "fit(model, DataLoader(test_data, batch_size=16, shuffle=True), test_loader"),
           False, "reaches for `test_data`"),
    Answer("train-augmented", "no augmentation", RECIPE.replace("= train_loader_augmented", "= train_loader"),
           False, "no augmentation"),
    Answer("train-augmented", "an old model", "augmented_loader = train_loader_augmented\n"
           "def train_model_2(train_loader, test_loader):\n    return model_small_data", False, "trained above"),
    Answer("train-augmented", "untrained", UNTRAINED, False, "it needs at least 75%"),
]


async def test_lesson_04_checks_take_every_right_answer_and_only_those(exercise_bench):
    bench = await exercise_bench("04", "train-augmented", device="cpu")
    assert not await mismatches(bench, LESSON_04)
