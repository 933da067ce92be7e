Code.require_file("../T.exs", __DIR__)
Code.require_file("../worker.exs", __DIR__)

T.main(fn ->
  Process.flag(:trap_exit, true)
  {:ok, sup} = Supervisor.start_link([H.spec(:a)], strategy: :one_for_one)
  for _ <- 1..4 do
    if Process.alive?(sup), do: Process.exit(H.pids(sup)[:a], :kill)
    T.settle()
  end
  receive do {:EXIT, ^sup, r} -> T.out("sup_exit", r) end
end)
T.done()
