Code.require_file("../T.exs", __DIR__)

T.main(fn ->
  Process.flag(:trap_exit, true)
  task = Task.async(fn -> raise "task_boom" end)
  try do
    Task.await(task)
  catch
    :exit, r -> T.out("exit", r)
  end
  T.settle()
  T.flush()
end)
T.done()
