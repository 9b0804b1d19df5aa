"""Hidden graders of PyTorch.ipynb: the accuracy of every trained model.

Each grader rebuilds the model with the student's code and loads the submitted
checkpoint in the student process, or, under `coursekit grade --retrain`, re-runs the
student's training function from scratch (epoch budget and seed in
pytorch_support.TRAINING). Held-out CIFAR-10 test images go to the student process; the
scores come back and the accuracy is computed here, so the labels never leave this
process. Targets and the number of held-out images are grader parameters
(pytorch_support, docs/retrain.md).
"""

from coursekit.grading import leaderboard, number, partial_credit, question, timeout
from pytorch_support import grade_training, require_full_marks


@question("pytorch_barebones_training")
@partial_credit(3)
@number("4.5.1")
@timeout(900)
def test_barebones_fc_accuracy(student, data_dir, retrain, set_score=None):
    """Part II two-layer network: 40% validation accuracy after one epoch (checkpoint or retrained)"""
    acc = grade_training(student, data_dir, retrain, "barebones_fc", 3, set_score)
    require_full_marks("barebones_fc", acc, 3)


@question("pytorch_barebones_training")
@partial_credit(4)
@number("4.5.2")
@timeout(900)
def test_barebones_convnet_accuracy(student, data_dir, retrain, set_score=None):
    """Part II ConvNet: 42% validation accuracy after one epoch (checkpoint or retrained)"""
    acc = grade_training(student, data_dir, retrain, "barebones_convnet", 4, set_score)
    require_full_marks("barebones_convnet", acc, 4)


@question("pytorch_module_training")
@partial_credit(3)
@number("4.5.3")
@timeout(900)
def test_module_fc_accuracy(student, data_dir, retrain, set_score=None):
    """TwoLayerFC: 40% validation accuracy after one epoch (checkpoint or retrained)"""
    acc = grade_training(student, data_dir, retrain, "module_fc", 3, set_score)
    require_full_marks("module_fc", acc, 3)


@question("pytorch_module_training")
@partial_credit(4)
@number("4.5.4")
@timeout(900)
def test_module_convnet_accuracy(student, data_dir, retrain, set_score=None):
    """ThreeLayerConvNet: 45% validation accuracy after one epoch (checkpoint or retrained)"""
    acc = grade_training(student, data_dir, retrain, "module_convnet", 4, set_score)
    require_full_marks("module_convnet", acc, 4)


@question("pytorch_sequential_training")
@partial_credit(4)
@number("4.5.5")
@timeout(900)
def test_sequential_convnet_accuracy(student, data_dir, retrain, set_score=None):
    """Sequential ConvNet with Nesterov momentum: 55% validation accuracy after one epoch"""
    acc = grade_training(student, data_dir, retrain, "sequential_convnet", 4, set_score)
    require_full_marks("sequential_convnet", acc, 4)


@question("pytorch_challenge")
@partial_credit(10)
@leaderboard("CIFAR-10 test accuracy (%)")
@number("4.6.1")
@timeout(1800)
def test_challenge_accuracy(student, data_dir, retrain, set_score=None, set_leaderboard_value=None):
    """Open challenge: 70% validation accuracy within 10 epochs; the accuracy goes to the leaderboard"""
    acc = grade_training(student, data_dir, retrain, "challenge", 10, set_score)
    set_leaderboard_value(round(100 * acc, 2))
    require_full_marks("challenge", acc, 10)
