Code.require_file("../T.exs", __DIR__)

T.main(fn ->
  tasks = for ms <- [30, 10, 20], do: Task.async(fn -> Process.sleep(ms); ms end)
  T.out("many", Task.await_many(tasks))
  {:ok, pid} = Task.start(fn -> :ok end)
  T.out("started", is_pid(pid))
  T.settle()
  T.flush()
end)
T.done()
