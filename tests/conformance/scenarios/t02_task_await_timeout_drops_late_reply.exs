Code.require_file("../T.exs", __DIR__)

T.main(fn ->
  task = Task.async(fn -> Process.sleep(300); :late end)
  try do
    Task.await(task, 100)
  catch
    :exit, r -> T.out("exit", r)
  end
  T.out("alive", Process.alive?(task.pid))
  Process.sleep(500)
  T.flush()
end)
T.done()
