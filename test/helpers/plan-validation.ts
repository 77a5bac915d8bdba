// The plan's first two validation commands, verbatim (spec 000,
// "Validation Commands"), run with python3 against a finished database.
export const PLAN_VALIDATION_SNIPPETS = [
  `
import sqlite3
conn = sqlite3.connect('tool_calling_experiment/tool_calling.db')
for row in conn.execute('SELECT experiment_id, condition_name, scene_accuracy, revision_rate, n_saves, n_breaks, net_improvement FROM condition_metrics'):
    print(row)
conn.close()
`,
  `
import sqlite3
conn = sqlite3.connect('tool_calling_experiment/tool_calling.db')
print('Tool calls per condition:')
for row in conn.execute('SELECT experiment_id, tool_name, COUNT(*), AVG(model_revised_after) FROM tool_calls GROUP BY experiment_id, tool_name'):
    print(row)
conn.close()
`,
];
