"""a2's mutant runs in the form the kit's mutant harness reads (coursekit.testing,
docs/authoring.md section 6). The wrong answers themselves live beside the tests that
grade the reference and the alternatives: test_fc_norm_graders.py (parts 1-2),
test_conv_grading.py (part 3), test_pytorch_grading.py (part 4); this file says how
each run is made and which graders must take points off it."""

from pathlib import Path

import test_conv_grading as conv
import test_fc_norm_graders as fcn
import test_pytorch_grading as pt

from coursekit.testing import Edit, Mutant, MutantRun, graders_in, mutate_cell

A = "a2_neural_nets"
GRADERS = Path(__file__).resolve().parents[2] / "autograder" / A
CNN = "scratch/classifiers/cnn.py"


def _question_graders(questions):
    return {g.name for g in graders_in(GRADERS) if g.question in questions}


# ------------------------------------------------------------ parts 1-2 (scratch/*.py)

def _fc(*tables):
    def edit(submission, request):
        for table in tables:
            fcn._apply(submission, table)
    return edit


# The questions each run grades.
FC_NORM_QUESTIONS = {
    "layer_mutants": ("fc_layers", "fc_losses", "fc_sandwich", "fc_optimizers", "norm_batchnorm",
                      "norm_layernorm", "norm_dropout"),
    "second_mutants": ("fc_losses", "fc_sandwich", "fc_optimizers", "norm_batchnorm",
                       "norm_layernorm", "norm_dropout", "norm_fc_net"),
    # the helper mutant rides along: its grader uses only the helpers and layers.py
    "net_mutants": ("fc_two_layer_net", "fc_multilayer_net", "norm_fc_net"),
    "norm_net_mutants": ("norm_fc_net", "fc_two_layer_net"),
}


# Graders of functions that call a mutated one, so the run's submission is wrong for
# them too: the helpers and backward passes call the mutated layers and forward passes
# (the backward graders take their caches from the student's forward pass), and the
# networks call the mutated layers.
DEPENDENTS = {
    "layer_mutants": {"test_affine_relu_forward", "test_affine_relu_backward",
                      "test_softmax_loss_large_scores", "test_batchnorm_backward",
                      "test_batchnorm_backward_alt", "test_layernorm_backward",
                      "test_dropout_backward"},
    "second_mutants": {"test_affine_norm_relu_helpers", "test_batchnorm_net", "test_dropout_net",
                       "test_layernorm_net"},
    "net_mutants": {"test_two_layer_loss", "test_two_layer_gradients", "test_batchnorm_net",
                    "test_dropout_net", "test_layernorm_net"},
}


def _fc_run(name, tables, rejected_by):
    return MutantRun(name, FC_NORM_QUESTIONS[name],
                     (Mutant(name, set(rejected_by) | DEPENDENTS.get(name, set()), (_fc(*tables),)),))


def _net_mutants(table):
    """One mutant per network mutant, each with the graders it names."""
    return tuple(Mutant(f"{name}#{i}", fails, (_fc([(src, name, fails)]),))
                 for i, (src, name, fails) in enumerate(table))


FC_NORM_RUNS = [
    _fc_run("layer_mutants", [fcn.LAYER_MUTANTS, {"scratch/layers.py": fcn.NORM_FORWARD_MUTANTS}], {
        "test_affine_forward", "test_affine_backward", "test_relu_forward", "test_relu_backward",
        "test_softmax_loss", "test_svm_loss", "test_sgd_momentum", "test_rmsprop", "test_adam",
        "test_batchnorm_forward_train", "test_layernorm_forward", "test_dropout_forward_train"}),
    # The overflowing softmax is right on ordinary scores, and the batch norm that
    # updates its averages at test time is right in training mode: test_softmax_loss and
    # test_batchnorm_forward_train must still give full marks.
    _fc_run("second_mutants", [fcn.FC_SECOND_MUTANTS, {"scratch/layers.py": fcn.NORM_SECOND_MUTANTS},
                               fcn.NORM_EXTRA_MUTANTS], {
        "test_softmax_loss_large_scores", "test_affine_relu_forward", "test_affine_relu_backward",
        "test_adam", "test_batchnorm_forward_test", "test_batchnorm_backward",
        "test_batchnorm_backward_alt", "test_layernorm_backward", "test_dropout_backward",
        "test_dropout_forward_test"}),
    MutantRun("net_mutants", FC_NORM_QUESTIONS["net_mutants"],
              _net_mutants(fcn.NET_MUTANTS)
              + (Mutant("bn_helper_relu_first", {"test_affine_norm_relu_helpers"},
                        (_fc(fcn.NORM_HELPER_MUTANTS),)),
                 # the TwoLayerNet.loss mutant's scores feed its loss and gradients; the
                 # FullyConnectedNet mutants break the normalized and dropout networks
                 Mutant("net_dependents", DEPENDENTS["net_mutants"]))),
    MutantRun("norm_net_mutants", FC_NORM_QUESTIONS["norm_net_mutants"],
              _net_mutants(fcn.NORM_NET_MUTANTS)),
]


# ------------------------------------------------------------ part 3 (conv layers, CNN)

# Graders a conv run's mutants cost beyond those its table lists: in run b the network
# without its hidden ReLU scores 2 of 10 (only test_cnn_init passes).
CONV_EXTRA = {"b": {"test_cnn_scores", "test_cnn_loss", "test_cnn_gradients"}}


def _conv_run(name):
    mutants, expected, failing = conv.MUTANT_RUNS[name]
    # A question expected to score nothing loses every grader to its mutant.
    rejected = (set(failing) | CONV_EXTRA.get(name, set())
                | _question_graders({q for q, s in expected.items() if s == 0}))
    edits = tuple(Edit(file, target, source) for file, source, target in mutants)
    return MutantRun(f"conv_{name}", tuple(expected), (Mutant(f"conv_{name}", rejected, edits),))


CNN_INIT_NO_DTYPE = Edit(CNN, "ThreeLayerConvNet.__init__", '''
def __init__(self, input_dim=(3, 32, 32), num_filters=32, filter_size=7, hidden_dim=100,
             num_classes=10, weight_scale=1e-3, reg=0.0, dtype=np.float32):
    # Mutant: the parameters keep numpy's float64 whatever dtype asks for.
    self.params = {}
    self.reg = reg
    self.dtype = dtype
    C, H, W = input_dim
    F = num_filters
    self.params["W1"] = weight_scale * np.random.randn(F, C, filter_size, filter_size)
    self.params["b1"] = np.zeros(F)
    self.params["W2"] = weight_scale * np.random.randn(F * (H // 2) * (W // 2), hidden_dim)
    self.params["b2"] = np.zeros(hidden_dim)
    self.params["W3"] = weight_scale * np.random.randn(hidden_dim, num_classes)
    self.params["b3"] = np.zeros(num_classes)
''')

CNN_INIT_UNIFORM = Edit(CNN, "ThreeLayerConvNet.__init__", '''
def __init__(self, input_dim=(3, 32, 32), num_filters=32, filter_size=7, hidden_dim=100,
             num_classes=10, weight_scale=1e-3, reg=0.0, dtype=np.float32):
    # Mutant: weights drawn from U(0, weight_scale) instead of N(0, weight_scale^2).
    self.params = {}
    self.reg = reg
    self.dtype = dtype
    C, H, W = input_dim
    F = num_filters
    self.params["W1"] = weight_scale * np.random.rand(F, C, filter_size, filter_size)
    self.params["b1"] = np.zeros(F)
    self.params["W2"] = weight_scale * np.random.rand(F * (H // 2) * (W // 2), hidden_dim)
    self.params["b2"] = np.zeros(hidden_dim)
    self.params["W3"] = weight_scale * np.random.rand(hidden_dim, num_classes)
    self.params["b3"] = np.zeros(num_classes)
    for k, v in self.params.items():
        self.params[k] = v.astype(dtype)
''')

CONV_RUNS = [_conv_run(name) for name in sorted(conv.MUTANT_RUNS)] + [
    # The other graders of the question set the parameters themselves, so a wrong
    # initialization costs test_cnn_init only.
    MutantRun("cnn_init_no_dtype", ("conv_three_layer_net",),
              (Mutant("cnn_init_no_dtype", {"test_cnn_init"}, (CNN_INIT_NO_DTYPE,),
                      says={"test_cnn_init": "float32"}),)),
    MutantRun("cnn_init_uniform", ("conv_three_layer_net",),
              (Mutant("cnn_init_uniform", {"test_cnn_init"}, (CNN_INIT_UNIFORM,),
                      says={"test_cnn_init": "standard deviation"}),)),
]


# ------------------------------------------------------------ part 4 (PyTorch.ipynb)

def _pytorch(changes):
    def edit(submission, request):
        build = request.getfixturevalue("build")
        solution_cells = pt._cell_sources(build.solutions(A) / pt.NB)
        for grade_id, source in pt._apply(submission, solution_cells, changes).items():
            mutate_cell(submission, pt.NB, grade_id, source)
    return edit


# Graders that call a mutated function of their run: train_part34 calls
# check_accuracy_part34 (run a: evaluated without eval(), the batch norm statistics
# move), train_part2 is graded with the student's two_layer_fc (run b), and flatten /
# Flatten (run c) feed every model built on them; TwoLayerFC's graders all check its
# parameter list first, which the extra layer (run c) changes.
PYTORCH_DEPENDENTS = {
    "mutants_a": {"test_train_part34"},
    "mutants_b": {"test_train_part2"},
    "mutants_c": {"test_two_layer_fc", "test_three_layer_convnet", "test_train_part2",
                  "test_three_layer_convnet_init", "test_three_layer_convnet_forward",
                  "test_sequential_fc", "test_sequential_convnet", "test_two_layer_fc_forward",
                  "test_two_layer_fc_init"},
}

PYTORCH_RUNS = [
    MutantRun(f"pytorch_{name}", tuple(pt.FUNCTION_POINTS),
              (Mutant(f"pytorch_{name}", set(failing) | PYTORCH_DEPENDENTS.get(name, set()),
                      (_pytorch(changes),)),))
    for name, (changes, failing) in sorted(pt.MUTANT_RUNS.items())
]

RUNS = FC_NORM_RUNS + CONV_RUNS + PYTORCH_RUNS

# Graders of trained checkpoints: their wrong submissions are checkpoints (untrained,
# of another model, damaged, missing), made from the trained reference in the tests
# that train it; those tests assert each grader below gives them nothing.
PROVED_ELSEWHERE = {
    "test_best_model_accuracy": "test_fc_notebook.py::test_useless_and_tampered_checkpoints_score_zero",
    **{name: "test_pytorch_notebook.py::test_bad_checkpoints_score_zero" for name in (
        "test_barebones_fc_accuracy", "test_barebones_convnet_accuracy", "test_module_fc_accuracy",
        "test_module_convnet_accuracy", "test_sequential_convnet_accuracy", "test_challenge_accuracy")},
}
